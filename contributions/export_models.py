"""A pledge export too big for a request, written by a Celery task and kept for its requester."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coalition.permissions import Access, RestrictedQuerySet


class PledgeExport(models.Model):
    """The pledge list's filters as one user asked for them, and the file a task made of them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    query = models.TextField(_("filters"), blank=True, help_text=_("The list's query string."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    #: An export holds what its requester may see, so only its requester reads it.
    access = Access(personal="created_by")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pledge export")
        verbose_name_plural = _("pledge exports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="pledge_export_status_valid"
            ),
            models.CheckConstraint(condition=Q(format__in=["csv", "xlsx"]), name="pledge_export_format_valid"),
        ]

    def __str__(self):
        return f"{self.format} export {self.pk} of {self.created_by_id} ({self.status})"
