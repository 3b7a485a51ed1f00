"""What the reports app does when other apps' events happen. The pledge and meeting signals are sent
inside the writer's transaction: the report they ask for is an outbox row of that transaction
(coalition.outbox), so a rolled-back change asks for nothing and a committed one is sent even if the
broker is down at that moment."""

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
