"""Coalitions' change stamps: moved in the transaction of every write that changes a coalition's
figures, read (one small query) to key the cached dashboard figures and summary."""

from django.db.models import F

from coalition.models import CoalitionStamp


def bump(coalition_ids):
    """Move the stamps of ``coalition_ids`` (in a fixed order, so concurrent writers lock alike)."""
    for coalition_id in sorted(set(coalition_ids)):
        if not CoalitionStamp.objects.filter(coalition_id=coalition_id).update(stamp=F("stamp") + 1):
            CoalitionStamp.objects.get_or_create(coalition_id=coalition_id, defaults={"stamp": 1})


def stamp_of(coalition_id):
    """The coalition's change stamp (0 before its first counted write)."""
    return CoalitionStamp.objects.filter(coalition_id=coalition_id).values_list("stamp", flat=True).first() or 0
