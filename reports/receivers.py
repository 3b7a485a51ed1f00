"""What the reports app does when other apps' events happen. The pledge and meeting signals are sent
inside the writer's transaction: the report they ask for is an outbox row of that transaction
(coalition.outbox), so a rolled-back change asks for nothing and a committed one is sent even if the
broker is down at that moment."""

from django.core.cache import cache

from coalition import outbox
from reports import services, tasks


def on_pledge_confirmed(sender, pledge_id, **kwargs):
    outbox.enqueue(tasks.send_confirmation_notice.name, pledge_id=pledge_id)


def on_meeting_held(sender, meeting_id, **kwargs):
    outbox.enqueue(tasks.send_meeting_summary.name, meeting_id=meeting_id)


def on_seat_changed(sender, seat, previous_role, **kwargs):
    """A user who takes a seat, or a new role in one, gets that role's default reports of the coalition."""
    if seat is not None and seat.role != previous_role:
        services.subscriptions_default(user=seat.user, coalitions=[seat.coalition])


#: Part of every public page's cache key (reports.public): bumped when a member is changed, since
#: members are shared by coalitions, keep no history, and their names are on the public pages.
PUBLIC_GENERATION_KEY = "public:generation"


def on_member_saved(sender, instance, created, **kwargs):
    if created:
        return
    try:
        cache.incr(PUBLIC_GENERATION_KEY)
    except ValueError:
        cache.set(PUBLIC_GENERATION_KEY, 1, None)
