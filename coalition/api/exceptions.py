"""JSON errors a person can act on: Django validation errors and conflicts become 400 and 409."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from coalition.errors import ConflictError

NON_FIELD_ERRORS_KEY = api_settings.NON_FIELD_ERRORS_KEY


def exception_handler(exc, context):
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
