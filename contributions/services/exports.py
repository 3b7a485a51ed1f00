"""Pledge exports too big for a request: recorded for their requester, written by a task."""

import logging
import tempfile

from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from coalition import permissions
from coalition.exports import csv_lines, write_xlsx
from contributions import selectors
from contributions.export_models import PledgeExport
from contributions.exports import HEADER, pledge_rows
from contributions.filtersets import PledgeFilterSet

logger = logging.getLogger(__name__)


def filtered_pledges(user, params):
    """The pledges ``user`` may see that the list's filters ``params`` (a QueryDict) select, in the
    list's order: what the page shows and its exports hold."""
    return PledgeFilterSet(params or None, queryset=selectors.pledge_list(user)).qs


@transaction.atomic
def pledge_export_request(*, acting_user, fmt, query):
    """Record an export of the pledges the list's ``query`` selects and queue the task that writes it."""
    from contributions.tasks import pledge_export_task

    permissions.ensure_can_use_portal(acting_user)
    export = PledgeExport.objects.create(created_by=acting_user, format=fmt, query=query)
    transaction.on_commit(lambda: pledge_export_task.delay(export.pk))
    return export


def pledge_export_run(*, export_id):
    """Write a queued export's file with what its requester may see now; a second run finds it taken."""
    claimed = PledgeExport.objects.filter(pk=export_id, status=PledgeExport.Status.QUEUED).update(
        status=PledgeExport.Status.RUNNING
    )
    if not claimed:
        return None
    export = PledgeExport.objects.select_related("created_by").get(pk=export_id)
    queryset = filtered_pledges(export.created_by, QueryDict(export.query))
    rows = 0

    def counted():
        nonlocal rows
        for row in pledge_rows(queryset):
            rows += 1
            yield row

    try:
        with tempfile.TemporaryFile() as file:
            if export.format == PledgeExport.Format.XLSX:
                write_xlsx(file, HEADER, counted(), sheet_title="Pledges")
            else:
                for line in csv_lines(HEADER, counted()):
                    file.write(line.encode("utf-8"))
            file.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            export.file.save(f"pledges-{export.pk}-{stamp}.{export.format}", File(file), save=False)
    except Exception as exc:
        logger.exception("Pledge export %s failed", export_id)
        export.status, export.error, export.finished_at = PledgeExport.Status.FAILED, repr(exc), timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
        return export
    export.status, export.row_count, export.finished_at = PledgeExport.Status.DONE, max(rows - 1, 0), timezone.now()
    export.save(update_fields=["status", "row_count", "file", "finished_at"])
    return export
