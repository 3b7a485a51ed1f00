"""JSON errors a person can act on: Django validation errors and conflicts become 400 and 409, a body
over Django's size limit 413."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from coalition.errors import ConflictError

NON_FIELD_ERRORS_KEY = api_settings.NON_FIELD_ERRORS_KEY


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read such a body (a SuspiciousOperation): its answer would be an HTML 400.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(
            _("The request body is larger than %(limit)s bytes, the most the API reads.") % {"limit": f"{limit:,}"}
        )
    if isinstance(exc, ConflictError):
        return Response(
            {"version": [str(exc.message)], "current_version": exc.current_version},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # A model's check constraints speak for the record as a whole ("__all__" in Django).
            detail = {
                NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: [str(m) for m in messages]
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
