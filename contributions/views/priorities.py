"""Priority purchases in the browser: the ranked list with coverage, a priority's page with its
allocations and history, and the secretariat's forms (create, edit, reorder, transitions)."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coalition import confirm, permissions
from coalition.errors import ConflictError
from coalition.exports import Column, csv_response, xlsx_response
from coalition.history import history_entries
from coalition.models import Coalition
from coalition.webforms import add_service_error
from contributions import selectors, services
from contributions.filtersets import PriorityFilterSet
from contributions.models import Allocation, PriorityPurchase
from contributions.priority_forms import (
    PriorityCreateForm,
    PriorityEditForm,
    PriorityMoveForm,
    PriorityTransitionForm,
)
from contributions.services.priorities import TRANSITIONS

P = PriorityPurchase.Status
#: The button that moves a priority to each status.
TRANSITION_LABELS = {
    P.APPROVED: gettext_lazy("Approve"),
    P.IN_PROCUREMENT: gettext_lazy("Start procurement"),
    P.CONTRACTED: gettext_lazy("Mark contracted"),
    P.DELIVERED: gettext_lazy("Mark delivered"),
    P.DROPPED: gettext_lazy("Drop"),
}


def _percent(allocated, estimated):
    return selectors.coverage(allocated, estimated) * 100


def _filtered(request):
    filterset = PriorityFilterSet(request.GET or None, queryset=selectors.priority_list(request.user))
    return filterset, filterset.qs


@require_GET
def priority_list(request):
    """The user's coalitions' priorities, ranked, each with a coverage bar and its unfunded gap."""
    permissions.ensure_can_use_portal(request.user)
    filterset, queryset = _filtered(request)
    rows = list(queryset)
    managed = set(Coalition.objects.editable_by(request.user).values_list("pk", flat=True))
    last_rank = {}
    if managed:
        last_rank = dict(
            PriorityPurchase.objects.filter(coalition__in=managed, status__in=PriorityPurchase.ACTIVE)
            .values("coalition")
            .annotate(top=Max("rank"))
            .values_list("coalition", "top")
        )
    for row in rows:
        row.coverage_percent = _percent(row.allocated_eur, row.estimated_cost_eur)
        row.bar_width = min(row.coverage_percent, 100)
        row.is_active = row.status in PriorityPurchase.ACTIVE
        row.can_manage = row.coalition_id in managed
        row.can_move_up = row.can_manage and row.is_active and row.rank > 1
        row.can_move_down = row.can_manage and row.is_active and row.rank < last_rank.get(row.coalition_id, 0)
    totals = {
        "estimated": sum((r.estimated_cost_eur for r in rows if r.status != P.DROPPED), 0),
        "allocated": sum((r.allocated_eur for r in rows if r.status != P.DROPPED), 0),
        "gap": sum((r.gap_eur for r in rows if r.status != P.DROPPED), 0),
    }
    return render(
        request,
        "contributions/priority_list.html",
        {
            "filterset": filterset,
            "priorities": rows,
            "totals": totals,
            "can_create": bool(managed),
            "query": request.GET.urlencode(),
        },
    )


EXPORT_HEADER = (
    Column(gettext_lazy("Coalition"), "text", 20),
    Column(gettext_lazy("Rank"), "number", 7),
    Column(gettext_lazy("Title"), "text", 40),
    Column(gettext_lazy("Category"), "text", 18),
    Column(gettext_lazy("Status"), "text", 14),
    Column(gettext_lazy("Estimated cost (EUR)"), "money", 18),
    Column(gettext_lazy("Allocated (EUR)"), "money", 18),
    Column(gettext_lazy("Coverage (%)"), "money", 12),
    Column(gettext_lazy("Unfunded gap (EUR)"), "money", 18),
    Column(gettext_lazy("Target date"), "date", 12),
    Column(gettext_lazy("Approved at meeting"), "text", 28),
)


def _export_rows(queryset):
    for p in queryset.iterator(chunk_size=500):
        yield (
            p.coalition.slug,
            p.rank,
            p.title,
            p.category,
            p.get_status_display(),
            p.estimated_cost_eur,
            p.allocated_eur,
            _percent(p.allocated_eur, p.estimated_cost_eur).quantize(Decimal("0.01")),
            p.gap_eur,
            p.target_date,
            p.approved_at_meeting.title if p.approved_at_meeting else "",
        )


@require_GET
def priority_export(request, fmt):
    """What the list shows (same filters), as CSV or XLSX."""
    permissions.ensure_can_use_portal(request.user)
    _filterset, queryset = _filtered(request)
    if fmt == "xlsx":
        return xlsx_response("priorities", EXPORT_HEADER, _export_rows(queryset), sheet_title=_("Priorities"))
    return csv_response("priorities", EXPORT_HEADER, _export_rows(queryset))


@require_GET
def priority_detail(request, pk):
    """One priority: coverage, its allocations (of pledges the user may see), decisions and history."""
    user = request.user
    priority = permissions.get_visible(selectors.priority_list(user), user, pk=pk)
    allocations = list(
        Allocation.objects.visible_to(user)
        .filter(priority=priority)
        .select_related("pledge__member")
        .order_by("-amount_eur", "pk")
    )
    can_manage = permissions.can_manage(user, priority.coalition_id)
    internal = permissions.can_read_internal(user, priority.coalition_id)
    context = {
        "priority": priority,
        "coverage_percent": _percent(priority.allocated_eur, priority.estimated_cost_eur),
        "allocations": allocations,
        "decisions": list(priority.decisions.select_related("meeting").order_by("meeting__starts_at", "pk")),
        "is_active": priority.status in PriorityPurchase.ACTIVE,
        "can_manage": can_manage,
        "can_read_history": internal,
        "transitions": [],
    }
    context["bar_width"] = min(context["coverage_percent"], 100)
    if internal:
        # What the page shows labels itself in the history (pledges only those the user may see).
        known = [priority, priority.coalition, priority.approved_at_meeting, *(a.pledge for a in allocations)]
        labels = {}
        context["history"] = history_entries(
            priority.history.visible_to(user), PriorityPurchase, known=known, labels=labels
        )
        context["allocation_history"] = history_entries(
            Allocation.history.filter(priority_id=priority.pk).visible_to(user),
            Allocation,
            label=lambda row: _("allocation of pledge #%(pledge)s") % {"pledge": row.pledge_id},
            known=known,
            labels=labels,
        )
    if can_manage:
        context["transitions"] = [
            (status, TRANSITION_LABELS[status]) for status in P.values if status in TRANSITIONS.get(priority.status, ())
        ]
        context["transition_form"] = PriorityTransitionForm(
            user=user, priority=priority, initial={"version": priority.version}
        )
    return render(request, "contributions/priority_detail.html", context)


@require_http_methods(["GET", "POST"])
def priority_create(request):
    """A new priority purchase (secretariat)."""
    user = request.user
    permissions.ensure(permissions.can_manage_any_coalition(user), _("Only the coalition's secretariat may do this."))
    form = PriorityCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            priority = services.priority_create(
                acting_user=user,
                coalition=data["coalition"],
                title=data["title"],
                description=data["description"],
                category=data["category"],
                estimated_cost_eur=data["estimated_cost_eur"],
                rank=data["rank"],
                status=data["status"],
                approved_at_meeting=data["approved_at_meeting"],
                target_date=data["target_date"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The priority purchase was added."))
            return redirect("priorities:detail", pk=priority.pk)
    return render(request, "contributions/priority_form.html", {"form": form, "priority": None})


@require_http_methods(["GET", "POST"])
def priority_edit(request, pk):
    """Change a priority's details (secretariat); a stale version is refused and the input kept."""
    user = request.user
    priority = permissions.get_editable(PriorityPurchase.objects.select_related("coalition"), user, pk=pk)
    if request.method == "POST":
        form = PriorityEditForm(request.POST, user=user, priority=priority)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.priority_update(acting_user=user, priority=priority, version=version, **data)
            except (ValidationError, ConflictError) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The priority purchase was saved."))
                return redirect("priorities:detail", pk=priority.pk)
    else:
        form = PriorityEditForm(initial=PriorityEditForm.initial_for(priority), user=user, priority=priority)
    return render(request, "contributions/priority_form.html", {"form": form, "priority": priority})


@require_POST
def priority_transition(request, pk):
    """Move a priority along procurement, or drop it (secretariat)."""
    user = request.user
    priority = permissions.get_editable(PriorityPurchase.objects.all(), user, pk=pk)
    form = PriorityTransitionForm(request.POST, user=user, priority=priority)
    if not form.is_valid():
        messages.error(request, _("The change could not be made: %(errors)s") % {"errors": _form_errors(form)})
        return redirect("priorities:detail", pk=priority.pk)
    data = form.cleaned_data
    droppable = PriorityPurchase.Status.DROPPED in TRANSITIONS.get(priority.status, ())
    if data["to_status"] == PriorityPurchase.Status.DROPPED and droppable and not confirm.confirmed(request):
        return confirm.confirmation_page(
            request,
            title=_("Drop this priority purchase?"),
            record=priority.title,
            question=_("The priority purchase will be marked dropped: the coalition no longer means to fund it."),
            consequences=[
                _("It leaves the priorities being funded and the coverage figures."),
                _("It stays on record, with its history and the decision that dropped it, if one is named."),
            ],
            button=_("Drop the priority purchase"),
            back_url=reverse("priorities:detail", args=[priority.pk]),
        )
    try:
        priority = services.priority_transition(
            acting_user=user,
            priority=priority,
            to_status=data["to_status"],
            version=data["version"],
            meeting=data["meeting"],
        )
    except (ValidationError, ConflictError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request, _("The priority purchase is now %(status)s.") % {"status": priority.get_status_display()}
        )
    return redirect("priorities:detail", pk=priority.pk)


@require_POST
def priority_move(request, pk):
    """Swap an active priority with its neighbour above or below (secretariat)."""
    user = request.user
    priority = permissions.get_editable(PriorityPurchase.objects.select_related("coalition"), user, pk=pk)
    form = PriorityMoveForm(request.POST)
    if not form.is_valid() or priority.status not in PriorityPurchase.ACTIVE:
        messages.error(request, _("Only an active priority can be moved."))
        return redirect("priorities:list")
    ordered = list(
        PriorityPurchase.objects.filter(coalition=priority.coalition, status__in=PriorityPurchase.ACTIVE)
        .order_by("rank", "pk")
        .values_list("pk", flat=True)
    )
    index = ordered.index(priority.pk)
    other = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        try:
            services.priority_rerank(acting_user=user, coalition=priority.coalition, ordered_ids=ordered)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(
                request, _("“%(title)s” is now number %(rank)s.") % {"title": priority.title, "rank": other + 1}
            )
    return redirect(f"{reverse('priorities:list')}#priority-{priority.pk}")


def _message(exc):
    if isinstance(exc, ConflictError):
        return str(exc.message)
    return " ".join(exc.messages)


def _form_errors(form):
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
