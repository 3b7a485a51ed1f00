"""Admin pages that write through the services, like every other surface.

A ``ServiceForm`` makes its service call as the last step of validation, so a ValidationError,
PermissionDenied or ConflictError from the service becomes an error on the form instead of a 500;
the admin then saves nothing itself. ``ServiceAdminMixin`` rolls the whole request back when the
page comes back with errors (a valid parent with an invalid inline writes nothing), deletes through
the service, scopes lists to the records the user may see and keeps simple_history's revert (which
would save an old version directly) switched off.

An admin using it defines ``service_save(request, form, original, parent=None)`` (``original`` is a
fresh copy of the record being changed, or None for an add) returning the saved record, and
optionally ``service_delete(request, obj)``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import router, transaction
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from coalition.errors import ConflictError

SERVICE_ERRORS = (ValidationError, PermissionDenied, ConflictError)


def error_messages(exc):
    """The service error as ``{field: [messages]}`` (field None for the whole record)."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {
                (None if field == NON_FIELD_ERRORS else field): list(msgs) for field, msgs in exc.message_dict.items()
            }
        return {None: list(exc.messages)}
    if isinstance(exc, ConflictError):
        return {None: [str(exc.message)]}
    return {None: [str(exc) or str(_("You are not allowed to do this."))]}


def _label(model, field):
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def add_service_error(form, exc):
    """Put a service's error on the form: on the field it names when the form shows it."""
    renamed = getattr(form.service_admin, "error_fields", {})
    for field, msgs in error_messages(exc).items():
        name = renamed.get(field, field)
        target = name if name in form.fields and name not in form._disabled_names else None
        for message in msgs:
            if target is None and field is not None:
                message = f"{_label(form._meta.model, field)}: {message}"
            form.add_error(target, message)


def changes(form, names):
    """The cleaned values of the fields among ``names`` that the user changed."""
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


def _adopt(instance, saved):
    """Copy the saved record's values into the form's instance (inline formsets hold that object)."""
    for field in saved._meta.concrete_fields:
        setattr(instance, field.attname, getattr(saved, field.attname))
    instance._state.adding = False
    instance._state.db = saved._state.db


class ServiceForm(forms.ModelForm):
    """A ModelForm whose save is a service call made at the end of validation."""

    #: Set on the form class by the admin that builds it.
    service_admin = None
    request = None

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent = parent
        self.service_action = None
        if "loaded_version" in self.fields:
            self.fields["loaded_version"].required = self.instance.pk is not None
            if self.instance.pk is not None:
                self.fields["loaded_version"].initial = self.instance.version
        locked = self.service_admin.locked_fields(self.instance) if self.service_admin else ()
        self._disabled_names = {name for name in locked if name in self.fields}
        for name in self._disabled_names:
            self.fields[name].disabled = True

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.service_admin is None or self.cleaned_data.get("DELETE"):
            return
        if self.instance.pk is not None and not self.has_changed():
            return
        if self.parent is not None and self.parent.pk is None:
            return  # the parent failed validation: its own errors are shown, nothing is written
        original = type(self.instance)._default_manager.get(pk=self.instance.pk) if self.instance.pk else None
        try:
            with transaction.atomic():
                saved = self.service_admin.service_save(self.request, self, original, parent=self.parent)
        except SERVICE_ERRORS as exc:
            add_service_error(self, exc)
            return
        if saved is not None:
            _adopt(self.instance, saved)
            self.service_action = "added" if original is None else "changed"


class VersionedServiceForm(ServiceForm):
    """A ServiceForm for a record with a version: the page carries the version it was read at."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ServiceInlineFormSet(BaseInlineFormSet):
    """Inline rows saved and deleted through the inline admin's services."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "parent": self.instance}

    def clean(self):
        super().clean()
        for form in self.forms:
            if not (self.can_delete and form.cleaned_data.get(DELETION_FIELD_NAME)) or form.instance.pk is None:
                continue
            inline = form.service_admin
            obj = type(form.instance)._default_manager.get(pk=form.instance.pk)
            if "loaded_version" in form.cleaned_data and hasattr(obj, "version"):
                obj._loaded_version = form.cleaned_data["loaded_version"]
            try:
                with transaction.atomic():
                    inline.service_delete(form.request, obj)
            except SERVICE_ERRORS as exc:
                raise ValidationError(
                    [f"{obj}: {message}" for msgs in error_messages(exc).values() for message in msgs]
                ) from exc
            form.service_action = "deleted"


class _ServiceFormsMixin:
    """What ModelAdmin and InlineModelAdmin share: service-backed forms and locked fields."""

    #: Fields shown but not editable once the record exists (their service cannot change them).
    locked_on_change = ()
    #: Where a service's error about a model field goes when the form names that input differently.
    error_fields = {}

    def locked_fields(self, instance):
        return self.locked_on_change if instance.pk is not None else ()

    def service_delete(self, request, obj):
        raise PermissionDenied(_("This record cannot be deleted here."))


class ServiceInline(_ServiceFormsMixin, admin.TabularInline):
    """An inline whose rows go through services; ``service_save`` receives the parent record."""

    form = ServiceForm
    formset = ServiceInlineFormSet
    extra = 0
    show_change_link = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.service_admin = self
        formset.form.request = request
        return formset

    def has_delete_permission(self, request, obj=None):
        return type(self).service_delete is not _ServiceFormsMixin.service_delete and super().has_delete_permission(
            request, obj
        )


class ServiceInlinesMixin:
    """For any ModelAdmin with ServiceInlines (the user's seats, say): the page is one transaction,
    rolled back when it comes back with errors, and inline rows are saved by their services."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            context = getattr(response, "context_data", None) or {}
            if request.method == "POST" and context.get("errors"):
                # The page comes back with errors: undo whatever the valid parts already wrote.
                transaction.set_rollback(True)
        return response

    def save_formset(self, request, form, formset, change):
        if not issubclass(formset.form, ServiceForm):
            return super().save_formset(request, form, formset, change)
        formset.new_objects = [f.instance for f in formset.forms if f.service_action == "added"]
        formset.changed_objects = [(f.instance, f.changed_data) for f in formset.forms if f.service_action == "changed"]
        formset.deleted_objects = [f.instance for f in formset.forms if f.service_action == "deleted"]


class ServiceAdminMixin(ServiceInlinesMixin, _ServiceFormsMixin):
    """For ModelAdmins whose writes are service calls (see the module docstring)."""

    form = VersionedServiceForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.service_admin = self
        form.request = request
        return form

    def get_queryset(self, request):
        """What the staff member may see, decided by the visibility layer like on every other surface."""
        return super().get_queryset(request).visible_to(request.user)

    def save_model(self, request, obj, form, change):
        """The service already saved the record during validation."""

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as exc:
            for msgs in error_messages(exc).values():
                for message in msgs:
                    self.message_user(request, message, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]))

    def has_delete_permission(self, request, obj=None):
        return type(self).service_delete is not _ServiceFormsMixin.service_delete and super().has_delete_permission(
            request, obj
        )

    def get_actions(self, request):
        # The bulk delete would bypass the services' rules one record at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def run_service_action(self, request, queryset, call, done_message):
        """Apply ``call(obj)`` to each selected record; report what worked and each refusal."""
        done = 0
        for obj in queryset:
            try:
                call(obj)
            except SERVICE_ERRORS as exc:
                for msgs in error_messages(exc).values():
                    for message in msgs:
                        self.message_user(request, f"{obj}: {message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    # simple_history's "revert" saves an old version with obj.save(): keep it off.
    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Records written elsewhere (imports, the meeting page): listed and shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AdministratorsReadOnlyAdminMixin(ReadOnlyAdminMixin):
    """Read-only, and shown to administrators (superusers) only: logs and queues kept by the code."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
