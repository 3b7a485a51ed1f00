"""Page-number paging with count, next, previous and results; clients may ask for up to 200 rows.

``page`` and ``page_size`` are what the schema says, whole numbers from 1 (``page_size`` at most
200): anything else is a 400 naming the parameter, where DRF would quietly use the default."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        for name, maximum in ((self.page_query_param, None), (self.page_size_query_param, self.max_page_size)):
            if name not in request.query_params:
                continue
            values = request.query_params.getlist(name)
            if len(values) > 1 or not _whole_number(values[0], maximum):
                upper = _(" and at most %(max)s") % {"max": maximum} if maximum else ""
                raise ValidationError({name: [_("Give one whole number, at least 1%(upper)s.") % {"upper": upper}]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def _whole_number(text, maximum):
    text = text.strip()
    return text.isascii() and text.isdigit() and int(text) >= 1 and (maximum is None or int(text) <= maximum)
