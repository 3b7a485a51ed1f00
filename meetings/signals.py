"""Events other apps (reports) react to, sent after the transaction commits."""

from django.dispatch import Signal

#: Sent with ``meeting_id`` and ``acting_user_id`` once a meeting marked held has committed.
meeting_held = Signal()
