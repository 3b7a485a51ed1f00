"""Every user gets a profile, so views can rely on ``user.profile``; and the event other apps react to
when a person's seat changes."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from coalition.models import Profile

#: Sent by the seat services inside their transaction with ``seat`` (the saved Seat, or None when it
#: was removed), ``user``, ``coalition`` and ``previous_role`` (None for a new seat).
seat_changed = Signal()


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="coalition_create_profile")
def create_profile(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        Profile.objects.get_or_create(user=instance)
