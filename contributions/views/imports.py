"""Pledge imports in the browser: upload, a preview with every row's errors, confirmation and progress."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coalition import permissions
from coalition.webforms import add_service_error
from contributions import services
from contributions.models import PledgeImport
from contributions.pledge_forms import PledgeImportForm
from contributions.spreadsheets import COLUMNS, REQUIRED_COLUMNS

#: Rows shown in the preview table (every error is listed whatever the number of rows).
PREVIEW_ROWS = 200


def _ensure_importer(user):
    permissions.ensure(
        permissions.can_record_any_pledge(user), _("Only the secretariat and member editors import pledges.")
    )


def _import(user, pk):
    """An import the user may read (its uploader, the coalition's secretariat); 404 otherwise."""
    return permissions.get_visible(PledgeImport.objects.select_related("coalition"), user, pk=pk)


@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Choose the coalition and the file; the next page previews what it would do."""
    _ensure_importer(request.user)
    form = PledgeImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            pledge_import = services.pledge_import_parse(
                form.cleaned_data["file"], form.cleaned_data["coalition"], request.user
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            return redirect("pledges:import_preview", pk=pledge_import.pk)
    recent = PledgeImport.objects.visible_to(request.user).filter(created_by=request.user).select_related("coalition")
    recent = recent[:10]
    context = {"form": form, "recent": recent, "columns": COLUMNS, "required": REQUIRED_COLUMNS}
    return render(request, "contributions/import_upload.html", context)


@require_http_methods(["GET", "POST"])
def import_preview(request, pk):
    """The preview (rows, actions, errors) with the confirm button; then the progress and the outcome."""
    _ensure_importer(request.user)
    pledge_import = _import(request.user, pk)
    if request.method == "POST":
        try:
            services.pledge_import_confirm(pledge_import=pledge_import, acting_user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("pledges:import_preview", pk=pledge_import.pk)
    S = PledgeImport.Status
    processed = services.pledge_import_progress(pledge_import)
    columns = [c for c in COLUMNS if c in pledge_import.columns]
    failed = {e["row"] for e in pledge_import.errors}
    rows = [
        {
            "number": row["row"],
            "action": row.get("action", ""),
            "failed": row["row"] in failed,
            "cells": [row["cells"].get(c, "") for c in columns],
        }
        for row in pledge_import.rows[:PREVIEW_ROWS]
    ]
    context = {
        "imp": pledge_import,
        "rows": rows,
        "more_rows": max(len(pledge_import.rows) - PREVIEW_ROWS, 0),
        "columns": columns,
        "in_progress": pledge_import.status in (S.QUEUED, S.RUNNING),
        "processed": processed,
        "can_confirm": pledge_import.status == S.PREVIEW and not pledge_import.errors and pledge_import.total_rows,
    }
    return render(request, "contributions/import_preview.html", context)
