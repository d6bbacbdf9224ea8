"""The partners' API (/api/v1/): DRF viewsets, filters, renderers, one router."""
