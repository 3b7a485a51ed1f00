"""What the reports app does when other apps' events happen. The pledge and meeting signals are sent
after their transaction commits, so a rolled-back change never reaches these receivers."""

import logging

from coalition.models import Coalition
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


def on_profile_coalitions_changed(sender, instance, action, pk_set, reverse, **kwargs):
    """A user who starts serving a coalition gets their role's default reports of it."""
    if action != "post_add" or reverse or not pk_set:
        return
    coalitions = list(Coalition.objects.filter(pk__in=pk_set))
    services.subscriptions_default(user=instance.user, coalitions=coalitions)
