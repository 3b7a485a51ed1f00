"""The dashboards: a coalition's figures as charts, each with a table of the same numbers and the
table as CSV. Every figure comes from reports.selectors.coalition_summary, never re-aggregated here."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from coalition import permissions
from coalition.exports import csv_response
from coalition.models import Coalition
from contributions.models import Pledge, PriorityPurchase
from contributions.selectors import recent_changes
from meetings.selectors import last_and_next_meeting, open_action_items
from reports import charts, figures
from reports.forms import DashboardFilterForm
from reports.selectors import coalition_summary

#: How many open action items the dashboard lists (the meeting pages have them all).
ACTION_ITEMS_SHOWN = 25


@require_GET
def home(request):
    """The user's first coalition's dashboard, or a page saying they serve none yet."""
    coalition = Coalition.objects.visible_to(request.user).order_by("name").first()
    if coalition is not None:
        return redirect("reports:dashboard", slug=coalition.slug)
    return render(request, "reports/no_coalition.html")


def _coalition(user, slug):
    """The coalition if the user may read it; 404 otherwise (its existence is not disclosed)."""
    return permissions.get_visible(Coalition.objects.all(), user, slug=slug)


def _summary(request, coalition):
    form = DashboardFilterForm(request.GET if request.GET else None)
    return form, coalition_summary(coalition, **form.summary_filters())


def _figures(request, coalition):
    """The filter form, and the summary with its charts, cached under the figures' fingerprint."""
    form = DashboardFilterForm(request.GET if request.GET else None)
    filters = form.summary_filters()

    def compute():
        summary = coalition_summary(coalition, **filters)
        return summary, _charts(summary)

    key = figures.fingerprint("dashboard", coalition, request.user, filters)
    summary, drawn = figures.cached(key, compute)
    return form, summary, drawn


def _month(value):
    return formats.date_format(value, "M Y")


def _tables(summary):
    """The dashboard's tables as (caption, header, rows of plain values): the CSV exports, and the
    numbers the charts draw."""
    return {
        "progress": (
            _("Confirmed against target"),
            [
                _("Target (EUR)"),
                _("Confirmed (EUR)"),
                _("Gap (EUR)"),
                _("Progress"),
                _("Announced, not yet confirmed (EUR)"),
                _("Total pledged (EUR)"),
                _("Disbursed (EUR)"),
            ],
            [
                [
                    summary.target_eur,
                    summary.confirmed_eur,
                    summary.gap_eur,
                    summary.progress,
                    summary.announced_eur,
                    summary.total_eur,
                    summary.disbursed_eur,
                ]
            ],
        ),
        "status": (
            _("Pledges by status"),
            [_("Status"), _("Pledges"), _("Amount (EUR)")],
            [[row.label, row.count, row.amount_eur] for row in summary.by_status],
        ),
        "members": (
            _("Pledged by member"),
            [
                _("Rank"),
                _("Code"),
                _("Member"),
                _("Total (EUR)"),
                _("Confirmed (EUR)"),
                _("Disbursed (EUR)"),
                _("Share"),
            ],
            [
                [index, row.code, row.name, row.total_eur, row.confirmed_eur, row.disbursed_eur, row.share]
                for index, row in enumerate(summary.by_member, start=1)
            ],
        ),
        "months": (
            _("Pledged over time"),
            [
                _("Month"),
                _("Announced (EUR)"),
                _("Confirmed (EUR)"),
                _("Cumulative total (EUR)"),
                _("Cumulative confirmed (EUR)"),
            ],
            [
                [
                    row.month.strftime("%Y-%m"),
                    row.announced_eur,
                    row.confirmed_eur,
                    row.cumulative_total_eur,
                    row.cumulative_confirmed_eur,
                ]
                for row in summary.by_month
            ],
        ),
        "priorities": (
            _("Priority purchases"),
            [
                _("Rank"),
                _("Priority"),
                _("Status"),
                _("Estimated cost (EUR)"),
                _("Allocated (EUR)"),
                _("Coverage"),
                _("Unfunded gap (EUR)"),
            ],
            [
                [row.rank, row.title, row.status, row.estimated_cost_eur, row.allocated_eur, row.coverage, row.gap_eur]
                for row in summary.priorities
            ],
        ),
    }


def _charts(summary):
    money = charts.money_short
    result = {}
    if summary.target_eur:
        result["progress"] = charts.progress_bar(
            summary.confirmed_eur,
            summary.target_eur,
            title=_("Confirmed against target"),
            desc=_("%(confirmed)s EUR confirmed of a %(target)s EUR target; gap %(gap)s EUR.")
            % {
                "confirmed": money(summary.confirmed_eur),
                "target": money(summary.target_eur),
                "gap": money(summary.gap_eur),
            },
        )
    result["status"] = charts.bar_chart(
        [
            charts.Bar(_("Announced"), summary.announced_eur),
            charts.Bar(_("Confirmed"), summary.confirmed_eur),
            charts.Bar(_("Disbursed"), summary.disbursed_eur),
        ],
        title=_("Announced, confirmed and disbursed"),
        desc=_(
            "Announced but not yet confirmed %(announced)s EUR; confirmed %(confirmed)s EUR; "
            "disbursed %(disbursed)s EUR."
        )
        % {
            "announced": money(summary.announced_eur),
            "confirmed": money(summary.confirmed_eur),
            "disbursed": money(summary.disbursed_eur),
        },
    )
    result["members"] = charts.hbar_chart(
        [
            charts.Bar(row.code, row.total_eur, f"{money(row.total_eur)} · {charts.percent(row.share)}")
            for row in summary.by_member
        ],
        title=_("Pledged by member, ranked"),
        desc=_("Each member's announced and confirmed pledges in EUR, largest first, with its share of the total."),
        value_width=150,
    )
    result["months"] = charts.step_chart(
        [_month(row.month) for row in summary.by_month],
        [
            (_("Total"), [row.cumulative_total_eur for row in summary.by_month]),
            (_("Confirmed"), [row.cumulative_confirmed_eur for row in summary.by_month]),
        ],
        target=summary.target_eur,
        title=_("Cumulative pledges over time"),
        desc=_("Running totals by month: pledged (solid line, circles) and confirmed (dashed line, squares)."),
    )
    result["priorities"] = charts.hbar_chart(
        [
            charts.Bar(
                f"#{row.rank} {row.title[:22]}",
                row.coverage,
                _("%(coverage)s · gap %(gap)s")
                % {"coverage": charts.percent(row.coverage, 0), "gap": money(row.gap_eur)},
            )
            for row in summary.priorities
        ],
        title=_("Coverage of priority purchases"),
        desc=_("Allocated as a share of each priority's estimated cost, with the unfunded gap in EUR."),
        label_width=200,
        value_width=150,
    )
    return result


def _recent_changes(request, coalition):
    """The latest public changes, cached like the figures: every write to a published pledge or its
    disbursements moves the change stamp, whether or not it moves a total."""
    key = figures.fingerprint("recent", coalition, request.user, {})
    return figures.cached(key, lambda: recent_changes(coalition))


@require_GET
def dashboard(request, slug):
    """A coalition's dashboard: where the money stands, its priorities, meetings and recent changes."""
    user = request.user
    coalition = _coalition(user, slug)
    form, summary, drawn = _figures(request, coalition)
    last_meeting, next_meeting = last_and_next_meeting(coalition)
    context = {
        "coalition": coalition,
        "coalitions": list(Coalition.objects.visible_to(user).only("pk", "slug", "name")),
        "form": form,
        "summary": summary,
        "charts": drawn,
        "last_meeting": last_meeting,
        "last_decisions": list(last_meeting.decisions.all()) if last_meeting else [],
        "next_meeting": next_meeting,
        "action_items": list(open_action_items(coalition)[:ACTION_ITEMS_SHOWN]),
        "recent_changes": (
            _recent_changes(request, coalition) if permissions.can_read_internal(user, coalition) else None
        ),
        "query": request.GET.urlencode(),
        "pledge_statuses": dict(Pledge.Status.choices),
        "priority_statuses": dict(PriorityPurchase.Status.choices),
    }
    return render(request, "reports/dashboard.html", context)


@require_GET
def dashboard_export(request, slug, table):
    """One of the dashboard's tables as CSV, with the same filters as the page."""
    coalition = _coalition(request.user, slug)
    _form, summary = _summary(request, coalition)
    tables = _tables(summary)
    if table not in tables:
        raise Http404(_("No such table."))
    _caption, header, rows = tables[table]
    return csv_response(f"{coalition.slug}-{table}", header, rows)
