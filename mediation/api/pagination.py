"""Page-number pagination with a page size the client may choose (up to a limit)."""

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_OFFSET = 2**31 - 1  # far beyond any directory, within every database's integers


def _echo(number):
    number = str(number)
    return number if len(number) <= 12 else number[:12] + "…"


class PrecountedPage:
    """One page of rows, already fetched, posing as the whole list to Django's Paginator."""

    def __init__(self, rows, total, offset):
        self.rows, self.total, self.offset = rows, total, offset

    def count(self):
        return self.total

    def __getitem__(self, index):
        return self.rows[index.start - self.offset : index.stop - self.offset]


class StructurePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    page_size_query_description = "Nombre de résultats par page (50 par défaut, 1 000 au plus)."
    page_query_description = "Numéro de la page (à partir de 1)."

    def get_page_size(self, request):
        """`page_size` as asked, capped at 1,000; anything but a positive integer is a 400."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.strip().isdecimal() or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: ["Indiquez un nombre entier de 1 à 1 000."]}
            )
        return min(int(raw), self.max_page_size)

    def window(self, request):
        """(page size, page number as asked, offset of its first row). A page so far
        that its offset could overflow a database integer is past the end: 404 at once."""
        page_size = self.get_page_size(request)
        raw_number = request.query_params.get(self.page_query_param) or 1
        try:
            number = int(raw_number)
        except (TypeError, ValueError):
            number = 0
        offset = max(number - 1, 0) * page_size
        if offset > MAX_OFFSET:
            raise NotFound(
                f"Page invalide : la page {_echo(raw_number)} est au-delà de la dernière."
            )
        return page_size, raw_number, offset

    def paginate_queryset(self, queryset, request, view=None):
        self.window(request)  # the same checks on every path
        return super().paginate_queryset(queryset, request, view=view)

    def counted_page(self, rows, total, request):
        """The page of `window(request)`, from its rows and the total, fetched elsewhere.
        A page past the end (or not a number) is answered with 404, as DRF does."""
        page_size, raw_number, offset = self.window(request)
        paginator = self.django_paginator_class(PrecountedPage(rows, total, offset), page_size)
        try:
            self.page = paginator.page(raw_number)
        except InvalidPage as error:
            raise NotFound(f"Page invalide : {error}") from error
        self.request = request
        return list(self.page)
