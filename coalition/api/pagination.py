"""Page-number paging with count, next, previous and results; clients may ask for up to 200 rows."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
