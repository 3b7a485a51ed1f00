"""Events other apps (reports) react to, sent inside the writer's transaction (see contributions.signals)."""

from django.dispatch import Signal

#: Sent with ``meeting_id`` and ``acting_user_id`` when a meeting is marked held.
meeting_held = Signal()
