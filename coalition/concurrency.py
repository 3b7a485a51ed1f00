"""Optimistic concurrency: each editable record carries ``version``; a stale write is refused."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from coalition.errors import ConflictError


def lock_current(instance, expected_version=None):
    """Lock the row of ``instance`` for this transaction and return a fresh copy of it.

    ``expected_version`` is the version the client read; if the row has moved on since, the update
    is refused with a ConflictError instead of overwriting someone else's change. ``None`` skips
    the check (system writes that do not start from a read, such as the demo loader).
    """
    model = type(instance)
    if expected_version is not None and not str(expected_version).isdigit():
        raise ValidationError({"version": _("Send the record's version as a whole number.")})
    current = model._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and int(expected_version) != current.version:
        raise ConflictError(model_name=model._meta.verbose_name, current_version=current.version)
    return current


def save_tracked(instance, *, acting_user, update_fields=None, bump=True):
    """Save with the acting user in the history row and, for updates, the version bumped."""
    instance._history_user = acting_user
    if bump and instance.pk is not None:
        instance.version += 1
        if update_fields is not None:
            update_fields = {*update_fields, "version"}
    if update_fields is not None and instance.pk is not None and hasattr(instance, "updated_at"):
        update_fields = {*update_fields, "updated_at"}
    instance.full_clean()
    instance.save(update_fields=update_fields)
    return instance


def delete_tracked(instance, *, acting_user):
    """Delete with the acting user recorded in the history's '-' row."""
    instance._history_user = acting_user
    instance.delete()
