from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Coalitions")

    def ready(self):
        from celery.signals import before_task_publish, task_postrun, task_prerun

        from coalition import changes, outbox, requestid, security_receivers, signals  # noqa: F401

        changes.connect()
        _connect_revalidation()

        task_postrun.connect(_outbox_task_ran, dispatch_uid="coalition_outbox_done", weak=False)
        before_task_publish.connect(requestid.on_publish, dispatch_uid="coalition_request_id_publish", weak=False)
        task_prerun.connect(requestid.on_task_start, dispatch_uid="coalition_request_id_start", weak=False)
        task_postrun.connect(requestid.on_task_end, dispatch_uid="coalition_request_id_end", weak=False)


def _connect_revalidation():
    """A cached API ETag (coalition.api.conditional) stops matching on the commit of every change-feed
    row and of every seat, API key and user written."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from coalition import changes
    from coalition.api import conditional
    from coalition.models import APIKey, Seat

    changes.changes_recorded.connect(conditional.writes_changed, dispatch_uid="revalidation-changes", weak=False)
    for model in (get_user_model(), Seat, APIKey):
        uid = f"revalidation-{model._meta.label_lower}"
        post_save.connect(conditional.writes_changed, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        post_delete.connect(conditional.writes_changed, sender=model, dispatch_uid=f"{uid}-delete", weak=False)


def _outbox_task_ran(sender=None, task_id=None, state=None, retval=None, **kwargs):
    """A task handed over by the outbox ran: its row is done (a task that failed for good too, with
    the error, rather than handed over forever; one being retried is not done yet)."""
    from coalition import outbox

    if state == "SUCCESS":
        outbox.mark_done(task_id)
    elif state == "FAILURE":
        outbox.mark_done(task_id, error=repr(retval))
