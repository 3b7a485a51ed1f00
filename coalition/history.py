"""Readable change history: who changed what, with the values before and after.

django-simple-history stores a full copy of the record per change; the pages show the difference
between consecutive copies. The diffs are computed in Python from one query, so a record's history
page costs the same number of queries however long its history is.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

#: Bookkeeping columns nobody needs to read in a history.
SKIPPED_FIELDS = {"id", "version", "created_at", "updated_at"}
KIND_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


class Change(NamedTuple):
    field: str
    old: str
    new: str


@dataclass
class Entry:
    """One history row as templates/includes/history.html reads it."""

    date: object
    user: object
    type: str
    type_label: str
    object_id: int
    object_label: str
    changes: list[Change] = field(default_factory=list)


def _display(model_field, value):
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return str(_("yes") if value else _("no"))
    if model_field.is_relation:
        return f"#{value}"
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return str(formats.localize(value, use_l10n=True))


def _tracked(model):
    """``(field, attname)`` of the fields worth showing, in the model's order."""
    result = []
    for model_field in model._meta.concrete_fields:
        if model_field.name in SKIPPED_FIELDS:
            continue
        result.append((model_field, model_field.attname))
    return result


def history_entries(history_queryset, model, *, label=str):
    """Entries newest first for the history rows in ``history_queryset`` (one or several records of
    ``model``), each with the fields that changed since that record's previous row."""
    rows = list(history_queryset.select_related("history_user").order_by("history_date", "history_id"))
    tracked = _tracked(model)
    previous = {}
    entries = []
    for row in rows:
        before = previous.get(row.id)
        changes = []
        for model_field, attname in tracked:
            new = getattr(row, attname, None)
            if before is None:
                if row.history_type == "+" and new not in (None, ""):
                    changes.append(Change(str(model_field.verbose_name), "—", _display(model_field, new)))
                continue
            old = getattr(before, attname, None)
            if old != new:
                changes.append(
                    Change(str(model_field.verbose_name), _display(model_field, old), _display(model_field, new))
                )
        previous[row.id] = row
        entries.append(
            Entry(
                date=row.history_date,
                user=row.history_user,
                type=row.history_type,
                type_label=str(KIND_LABELS.get(row.history_type, row.history_type)),
                object_id=row.id,
                object_label=label(row),
                changes=changes,
            )
        )
    entries.reverse()
    return entries
