"""Pledges in the browser: the filtered list and its exports, a pledge's page with disbursements,
allocations and history, and the forms that call the pledge services."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import CheckboxSelectMultiple, Select
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coalition import confirm, permissions
from coalition.errors import ConflictError
from coalition.exports import csv_response, xlsx_response
from coalition.history import history_entries
from coalition.models import Coalition
from coalition.selectors import euro_sum
from coalition.webforms import add_service_error
from contributions import selectors, services
from contributions.exports import HEADER as EXPORT_HEADER
from contributions.exports import pledge_rows
from contributions.filtersets import PledgeFilterSet
from contributions.models import Allocation, Disbursement, Pledge, PledgeExport
from contributions.pledge_forms import (
    AllocationForm,
    DisbursementForm,
    PledgeCreateForm,
    PledgeEditForm,
    TransitionForm,
)
from contributions.services.pledges import MANUAL_TRANSITIONS
from meetings import selectors as meeting_selectors
from meetings.forms import meeting_label

S = Pledge.Status
PAGE_SIZE = 25
#: Filters of the shared filter set the HTML list does not show (partners' API sync uses them).
HIDDEN_FILTERS = ("updated_since",)
TRANSITION_LABELS = {
    S.ANNOUNCED: gettext_lazy("Announce"),
    S.CONFIRMED: gettext_lazy("Confirm"),
    S.WITHDRAWN: gettext_lazy("Withdraw"),
}


def _filterset(request):
    """The shared PledgeFilterSet over the pledges the user may see, its form dressed for the page."""
    filterset = PledgeFilterSet(request.GET or None, queryset=selectors.pledge_list(request.user))
    form = filterset.form
    for name in HIDDEN_FILTERS:
        form.fields.pop(name, None)
    form.fields["status"].widget = CheckboxSelectMultiple(choices=form.fields["status"].choices)
    coalitions = [("", _("All"))] + [
        (c.slug, c.name) for c in Coalition.objects.visible_to(request.user).only("slug", "name")
    ]
    form.fields["coalition"].widget = Select(choices=coalitions)
    form.fields["coalition"].label = _("Coalition")
    # The API takes a meeting id; the page offers the user's meetings by name.
    meetings = [("", _("Any"))] + [
        (m.pk, meeting_label(m)) for m in meeting_selectors.meeting_list(request.user).order_by("-starts_at")
    ]
    form.fields["confirmed_at_meeting"].widget = Select(choices=meetings)
    form.fields["confirmed_at_meeting"].label = _("Confirmed at meeting")
    return filterset


@require_GET
def pledge_list(request):
    """The pledges the user may see, filtered with the API's filters, sorted and paged."""
    permissions.ensure_can_use_portal(request.user)
    filterset = _filterset(request)
    totals = filterset.qs.order_by().aggregate(count=Count("pk"), amount_eur=euro_sum("amount_eur"))
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    paginator.count = totals["count"]  # the total row's count is the pager's: one query for both
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "totals": totals,
        "filterset": filterset,
        "page_obj": page,
        "pledges": page.object_list,
        "ordering": request.GET.get("ordering", ""),
        "query": request.GET.urlencode(),
        "can_record": permissions.can_record_any_pledge(request.user),
    }
    return render(request, "contributions/pledge_list.html", context)


@require_GET
def pledge_export(request, fmt):
    """Every pledge the list's filters select (all pages), as CSV or XLSX, with a total row. More rows
    than ``EXPORTS_MAX_SYNC_ROWS`` are written by a task and offered on the user's exports page."""
    permissions.ensure_can_use_portal(request.user)
    if fmt not in PledgeExport.Format.values:
        raise Http404(_("Exports are CSV or XLSX."))
    queryset = _filterset(request).qs
    if queryset.count() > settings.EXPORTS_MAX_SYNC_ROWS:
        services.pledge_export_request(acting_user=request.user, fmt=fmt, query=request.GET.urlencode())
        messages.info(request, _("That export is large: it is being prepared and will be listed here when ready."))
        return redirect("pledges:exports")
    rows = pledge_rows(queryset)
    if fmt == "csv":
        return csv_response("pledges", EXPORT_HEADER, rows)
    return xlsx_response("pledges", EXPORT_HEADER, rows, sheet_title="Pledges")


@require_GET
def export_list(request):
    """The exports the user asked for (only theirs), newest first, with a link to each ready file."""
    permissions.ensure_can_use_portal(request.user)
    exports = PledgeExport.objects.visible_to(request.user).order_by("-created_at", "-id")[:50]
    return render(
        request, "contributions/export_list.html", {"exports": exports, "max_rows": settings.EXPORTS_MAX_SYNC_ROWS}
    )


@require_GET
def export_download(request, pk):
    """A ready export's file, for its requester only (404 for anyone else)."""
    export = permissions.get_visible(PledgeExport.objects.filter(status=PledgeExport.Status.DONE), request.user, pk=pk)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=f"pledges-{export.pk}.{export.format}")


@require_http_methods(["GET", "POST"])
def pledge_create(request):
    """Record a pledge: for the user's own member (editors) or any member (secretariat)."""
    permissions.ensure(
        permissions.can_record_any_pledge(request.user),
        _("Only the secretariat and member editors record pledges."),
    )
    form = PledgeCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            pledge = services.pledge_create(acting_user=request.user, **form.changes())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Pledge recorded."))
            return redirect("pledges:detail", pk=pledge.pk)
    return render(request, "contributions/pledge_form.html", {"form": form, "pledge": None})


def _history(user, pledge):
    """The pledge's history with its disbursements' and allocations' (three queries, and one for the
    users they name), newest first, as far as ``user`` may read it (rows from before the pledge was
    published only for those who could read the draft); the records the page has loaded label
    themselves."""
    labels = {}
    known = [
        pledge,
        pledge.coalition,
        pledge.member,
        pledge.confirmed_at_meeting,
        *(allocation.priority for allocation in pledge.allocations.all()),
    ]
    entries = [
        *history_entries(
            Pledge.history.filter(id=pledge.pk).visible_to(user),
            Pledge,
            label=lambda row: _("Pledge"),
            known=known,
            labels=labels,
        ),
        *history_entries(
            Disbursement.history.filter(pledge_id=pledge.pk).visible_to(user),
            Disbursement,
            label=lambda row: _("Disbursement of %(date)s") % {"date": row.date.isoformat()},
            labels=labels,
        ),
        *history_entries(
            Allocation.history.filter(pledge_id=pledge.pk).visible_to(user),
            Allocation,
            label=lambda row: _("Allocation to priority #%(id)s") % {"id": row.priority_id},
            labels=labels,
        ),
    ]
    entries.sort(key=lambda entry: entry.date, reverse=True)
    return entries


def _render_detail(request, pledge, *, disbursement_form=None, allocation_form=None, transition_form=None, status=200):
    user = request.user
    can_edit = permissions.can_edit(user, pledge)
    can_manage = permissions.can_manage(user, pledge.coalition_id)
    transitions = (
        [
            (s, TRANSITION_LABELS[s])
            for s in (S.ANNOUNCED, S.CONFIRMED, S.WITHDRAWN)
            if s in MANUAL_TRANSITIONS[pledge.status]
        ]
        if can_edit
        else []
    )
    accepts_disbursements = pledge.status in (S.CONFIRMED, S.DISBURSING)
    accepts_allocations = pledge.status in Pledge.COUNTED
    context = {
        "pledge": pledge,
        "disbursements": list(pledge.disbursements.all()),
        "allocations": list(pledge.allocations.all()),
        "decisions": list(pledge.decisions.all()),
        "history": _history(user, pledge) if permissions.can_read_internal(user, pledge.coalition_id) else None,
        "can_edit": can_edit and pledge.status != S.WITHDRAWN,
        "can_delete": can_edit and pledge.disbursed_amount == 0,
        "transitions": transitions,
        "transition_form": transition_form
        or (TransitionForm(pledge=pledge) if S.CONFIRMED in dict(transitions) else None),
        "disbursement_form": disbursement_form
        or (DisbursementForm(pledge=pledge) if can_edit and accepts_disbursements else None),
        "allocation_form": allocation_form
        or (AllocationForm(pledge=pledge) if can_manage and accepts_allocations else None),
    }
    return render(request, "contributions/pledge_detail.html", context, status=status)


@require_GET
def pledge_detail(request, pk):
    """A pledge with its disbursements, allocations, the decisions that concern it and its history."""
    return _render_detail(request, selectors.pledge_detail(request.user, pk))


@require_http_methods(["GET", "POST"])
def pledge_edit(request, pk):
    """Change a pledge. A stale version (someone saved in between) keeps the user's input and says so."""
    pledge = permissions.get_editable(selectors.pledge_list(request.user), request.user, pk=pk)
    if pledge.status == S.WITHDRAWN:
        messages.error(request, _("A withdrawn pledge cannot be changed."))
        return redirect("pledges:detail", pk=pledge.pk)
    form_kwargs = {"user": request.user, "coalition_ids": [pledge.coalition_id]}
    if request.method == "POST":
        form = PledgeEditForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.pledge_update(
                    acting_user=request.user, pledge=pledge, version=form.cleaned_data["version"], **form.changes()
                )
            except ConflictError as exc:
                add_service_error(form, exc)
                return render(
                    request,
                    "contributions/pledge_form.html",
                    {"form": form, "pledge": pledge, "conflict": True},
                    status=409,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Pledge saved."))
                return redirect("pledges:detail", pk=pledge.pk)
    else:
        form = PledgeEditForm(initial=PledgeEditForm.initial_for(pledge), **form_kwargs)
    return render(request, "contributions/pledge_form.html", {"form": form, "pledge": pledge})


@require_POST
def pledge_transition(request, pk):
    """Announce, confirm (optionally at a meeting) or withdraw a pledge."""
    pledge = permissions.get_editable(selectors.pledge_list(request.user), request.user, pk=pk)
    form = TransitionForm(request.POST, pledge=pledge)
    if not form.is_valid():
        return _render_detail(request, pledge, transition_form=form, status=400)
    data = form.cleaned_data
    withdrawable = S.WITHDRAWN in MANUAL_TRANSITIONS.get(pledge.status, ())
    if data["to"] == S.WITHDRAWN and withdrawable and not confirm.confirmed(request):
        return confirm.confirmation_page(
            request,
            title=_("Withdraw this pledge?"),
            record=_pledge_line(pledge),
            question=_(
                "The pledge will be marked withdrawn. A pledge is withdrawn for good: "
                "it cannot be announced or confirmed again."
            ),
            consequences=[
                _("Its amount leaves the coalition's totals, the dashboard and the reports."),
                _("Its allocations to priority purchases are removed."),
                _("It stays on record, with its history, for those who may read it."),
            ],
            button=_("Withdraw the pledge"),
            back_url=reverse("pledges:detail", args=[pledge.pk]),
        )
    try:
        services.pledge_transition(
            acting_user=request.user,
            pledge=pledge,
            to_status=data["to"],
            version=data.get("version"),
            on_date=data.get("on_date") if data["to"] == S.CONFIRMED else None,
            meeting=data.get("meeting") if data["to"] == S.CONFIRMED else None,
        )
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("pledges:detail", pk=pledge.pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("pledges:detail", pk=pledge.pk)
    messages.success(request, _("The pledge is now %(status)s.") % {"status": S(data["to"]).label})
    return redirect("pledges:detail", pk=pledge.pk)


def _pledge_line(pledge):
    amount = formats.number_format(pledge.amount, 2, use_l10n=True, force_grouping=True)
    return f"{pledge.member.name}: {pledge.title} ({amount} {pledge.currency})"


@require_POST
def pledge_delete(request, pk):
    """Delete a pledge entered by mistake (nothing disbursed against it)."""
    pledge = permissions.get_editable(selectors.pledge_list(request.user), request.user, pk=pk)
    if not confirm.confirmed(request):
        return confirm.confirmation_page(
            request,
            title=_("Delete this pledge?"),
            record=_pledge_line(pledge),
            question=_(
                "Delete a pledge only when it was entered by mistake: "
                "to record that a member took it back, withdraw it instead."
            ),
            consequences=[
                _("It disappears from every list, total and export."),
                _("Its history keeps what it was and who deleted it."),
            ],
            button=_("Delete the pledge"),
            back_url=reverse("pledges:detail", args=[pledge.pk]),
        )
    try:
        services.pledge_delete(acting_user=request.user, pledge=pledge, version=request.POST.get("version") or None)
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("pledges:detail", pk=pledge.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("pledges:detail", pk=pledge.pk)
    messages.success(request, _("Pledge deleted."))
    return redirect("pledges:list")


@require_POST
def disbursement_create(request, pk):
    """Record money paid against a pledge (its member's editors and the secretariat)."""
    pledge = selectors.pledge_detail(request.user, pk)
    permissions.ensure_can_edit(request.user, pledge)
    form = DisbursementForm(request.POST, pledge=pledge)
    if form.is_valid():
        try:
            services.disbursement_record(acting_user=request.user, pledge=pledge, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Disbursement recorded."))
            return redirect("pledges:detail", pk=pledge.pk)
    return _render_detail(request, pledge, disbursement_form=form, status=400)


@require_POST
def allocation_create(request, pk):
    """Earmark part of a pledge for a priority purchase (the secretariat)."""
    pledge = selectors.pledge_detail(request.user, pk)
    permissions.ensure_can_manage(request.user, pledge.coalition_id)
    form = AllocationForm(request.POST, pledge=pledge)
    if form.is_valid():
        try:
            services.allocation_set(acting_user=request.user, pledge=pledge, **form.cleaned_data)
        except (ValidationError, ConflictError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Allocation saved."))
            return redirect("pledges:detail", pk=pledge.pk)
    return _render_detail(request, pledge, allocation_form=form, status=400)
