"""Readable change history: who changed what, with the values before and after.

django-simple-history stores a full copy of the record per change; the pages show the difference
between consecutive copies. The diffs are computed in Python from one query, plus at most one each
for the users, coalitions and members the rows name, so a record's history page costs the same
number of queries however long its history is.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from coalition.models import Coalition, Member

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


def _display(model_field, value, labels):
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return str(_("yes") if value else _("no"))
    if model_field.is_relation:
        # A record neither looked up nor known to the page (or deleted since) shows its id.
        return labels.get((model_field.related_model, value), f"#{value}")
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


def _looked_up(model):
    """Related models whose names any reader of a history may see: the coalition's own directory and
    the users (who already appear as authors). Others (pledges, meetings, priorities) label
    themselves only when the page passes them as ``known``: a draft pledge's title must not leak
    through another record's history."""
    return model is get_user_model() or model in (Coalition, Member)


def _related_labels(rows, tracked, labels):
    """Add to ``labels`` (``{(model, pk): str(record)}``) the looked-up records the rows point to and
    it lacks: one query per such model."""
    wanted = defaultdict(set)
    for model_field, attname in tracked:
        related = model_field.related_model
        if model_field.is_relation and _looked_up(related):
            wanted[related].update(
                value
                for row in rows
                if (value := getattr(row, attname, None)) is not None and (related, value) not in labels
            )
    for related, ids in wanted.items():
        if ids:
            labels.update(((related, record.pk), str(record)) for record in related._default_manager.filter(pk__in=ids))


def history_entries(history_queryset, model, *, label=str, known=(), labels=None):
    """Entries newest first for the history rows in ``history_queryset`` (one or several records of
    ``model``), each with the fields that changed since that record's previous row.

    Related records show by name. ``known`` are records the page has loaded already (no query for
    them); a ``labels`` dict shared by several calls on one page reads each related record once.
    """
    labels = {} if labels is None else labels
    for record in known:
        if record is not None:
            labels.setdefault((record._meta.concrete_model, record.pk), str(record))
    rows = list(history_queryset.select_related("history_user").order_by("history_date", "history_id"))
    tracked = _tracked(model)
    for row in rows:  # the authors, already joined, name most users the rows refer to
        if row.history_user is not None:
            labels.setdefault((get_user_model(), row.history_user.pk), str(row.history_user))
    _related_labels(rows, tracked, labels)
    previous = {}
    entries = []
    for row in rows:
        before = previous.get(row.id)
        changes = []
        for model_field, attname in tracked:
            new = getattr(row, attname, None)
            if before is None:
                if row.history_type == "+" and new not in (None, ""):
                    changes.append(Change(str(model_field.verbose_name), "—", _display(model_field, new, labels)))
                continue
            old = getattr(before, attname, None)
            if old != new:
                changes.append(
                    Change(
                        str(model_field.verbose_name),
                        _display(model_field, old, labels),
                        _display(model_field, new, labels),
                    )
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
