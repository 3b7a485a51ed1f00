"""What grant_role and revoke_role share: finding a coalition by slug, and a user's seats in one line."""

from django.core.management.base import CommandError

from coalition.models import Coalition


def find_coalition(slug):
    coalition = Coalition.objects.filter(slug=slug).first()
    if coalition is None:
        known = ", ".join(Coalition.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"No coalition with slug {slug!r} (known: {known}).")
    return coalition


def describe_seats(user):
    """``it-coalition: secretariat; demining: member-editor for EE`` (or ``none``)."""
    seats = user.seats.select_related("coalition", "member").order_by("coalition__slug")
    parts = [f"{s.coalition.slug}: {s.role}" + (f" for {s.member.code}" if s.member_id else "") for s in seats]
    return "; ".join(parts) or "none"
