"""Page-number pagination with a page size the client may choose (up to a limit)."""

from rest_framework.pagination import PageNumberPagination


class StructurePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    page_size_query_description = "Nombre de résultats par page (50 par défaut, 1 000 au plus)."
    page_query_description = "Numéro de la page (à partir de 1)."
