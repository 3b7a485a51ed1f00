from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Coalitions")

    def ready(self):
        from celery.signals import task_postrun

        from coalition import changes, outbox, security_receivers, signals  # noqa: F401

        changes.connect()

        task_postrun.connect(_outbox_task_ran, dispatch_uid="coalition_outbox_done", weak=False)


def _outbox_task_ran(sender=None, task_id=None, state=None, retval=None, **kwargs):
    """A task handed over by the outbox ran: its row is done (a task that failed for good too, with
    the error, rather than handed over forever; one being retried is not done yet)."""
    from coalition import outbox

    if state == "SUCCESS":
        outbox.mark_done(task_id)
    elif state == "FAILURE":
        outbox.mark_done(task_id, error=repr(retval))
