"""Events other apps (reports) react to. Sent after the transaction commits, never before."""

from django.dispatch import Signal

#: Sent with ``pledge_id`` and ``acting_user_id`` once a confirmation has committed.
pledge_confirmed = Signal()
