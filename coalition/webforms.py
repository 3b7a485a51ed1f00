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


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """Records by id; a value that is no id (not a whole number, or beyond a bigint) is refused as
    an invalid choice before the database is asked."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else [value]:
            text = str(pk)
            if not text.isdigit() or int(text) > 2**63 - 1:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text[:40]}
                )
        return super()._check_values(value)


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


def editable_fields_form(model, *, overrides=None, exclude=()):
    """A Form class holding ``model.editable_fields`` (the list its update service accepts), each field
    made from the model field (label, help text, choices, limits), so the form and the service read one
    declaration. ``overrides[name]`` is a dict of keyword arguments for ``formfield()`` (a widget, a
    help text) or a ready form field (a choice field with its own labels)."""
    overrides = overrides or {}
    attrs = {"__module__": model.__module__, "__doc__": f"The fields of a {model._meta.verbose_name} people edit."}
    for name in model.editable_fields:
        if name in exclude:
            continue
        override = overrides.get(name, {})
        attrs[name] = (
            override if isinstance(override, forms.Field) else model._meta.get_field(name).formfield(**override)
        )
    return type(f"{model.__name__}Fields", (forms.Form,), attrs)
