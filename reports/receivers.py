"""What the reports app does when other apps' events happen. The pledge and meeting signals are sent
after their transaction commits, so a rolled-back change never reaches these receivers."""

import logging

from reports import services, tasks

logger = logging.getLogger(__name__)


def _queue(task, object_id):
    # The change is committed whatever happens here: a broker outage must not turn the user's saved
    # change into an error page. The log says how to send the report by hand.
    try:
        task.delay(object_id)
    except Exception:  # noqa: BLE001 - reported, and recoverable with send_report
        logger.exception("Could not queue %s(%s); send it with manage.py send_report.", task.name, object_id)


def on_pledge_confirmed(sender, pledge_id, **kwargs):
    _queue(tasks.send_confirmation_notice, pledge_id)


def on_meeting_held(sender, meeting_id, **kwargs):
    _queue(tasks.send_meeting_summary, meeting_id)


def on_seat_changed(sender, seat, previous_role, **kwargs):
    """A user who takes a seat, or a new role in one, gets that role's default reports of the coalition."""
    if seat is not None and seat.role != previous_role:
        services.subscriptions_default(user=seat.user, coalitions=[seat.coalition])
