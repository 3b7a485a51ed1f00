"""Helpers shared by the portal's forms: HTML5 date inputs and service errors shown on the form."""

from django import forms
from django.core.exceptions import ValidationError

from coalition.errors import ConflictError


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def add_service_error(form, exc):
    """Put what a service refused on the form: field messages on their fields (or on the form when
    the field is not on it), a conflict as a form-wide message. The user's input stays in the form."""
    if isinstance(exc, ConflictError):
        form.add_error(None, str(exc.message))
        return
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                for message in error.messages:
                    form.add_error(name if name in form.fields else None, message)
        return
    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    for message in messages:
        form.add_error(None, message)
