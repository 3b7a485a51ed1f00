"""The dashboards: a coalition's figures as charts, each with a table of the same numbers and the
table as CSV. Every figure comes from reports.selectors.coalition_summary, never re-aggregated here."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coalition import permissions, services
from coalition.errors import ConflictError
from coalition.exports import csv_response
from coalition.models import Coalition
from contributions.models import Pledge, PriorityPurchase
from contributions.selectors import recent_changes
from meetings.selectors import held_meetings, last_and_next_meeting, open_action_items
from reports import charts, selectors
from reports import figures as figure_cache
from reports.forms import DashboardFilterForm

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


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard and its CSV twins show, each part from a named selector."""

    summary: selectors.Summary
    headline: selectors.Headline
    members: list
    breakdowns: dict
    coverage: list
    as_of: object
    meetings: list


def _figures_key(surface, request, coalition, last_meeting, filters, **extra):
    """The cache key of the dashboard's figures (or of their HTML): the figures' fingerprint, plus
    the last held meeting and the day, since ages and "since the meeting" move with them and not with
    the coalition's change stamp."""
    context = {
        **filters,
        **extra,
        "meeting": f"{last_meeting.pk}:{last_meeting.updated_at.isoformat()}" if last_meeting else "none",
        "today": timezone.localdate().isoformat(),
    }
    return figure_cache.fingerprint(surface, coalition, request.user, context)


def _figures(request, coalition, last_meeting, form=None):
    """The filter form, the figures it selects (changes counted since ``last_meeting``) and their
    charts, cached under the figures' key."""
    form = form or DashboardFilterForm(request.GET if request.GET else None)
    filters = form.summary_filters()

    def compute():
        result = figures_for(coalition, last_meeting, **filters)
        return result, _charts(result)

    key = _figures_key("dashboard", request, coalition, last_meeting, filters)
    result, drawn = figure_cache.cached(key, compute)
    return form, result, drawn


def _figure_html(request, coalition, last_meeting):
    """The filter form and the dashboard's headline and figure panels as HTML, rendered once per
    figures fingerprint and page address (the panels' links carry the filters): a page served from
    the cache reads no figures and renders no chart or table, only the parts that are the reader's
    own (meetings, action items, recent changes, the forms with their CSRF token)."""
    form = DashboardFilterForm(request.GET if request.GET else None)
    query = request.GET.urlencode()
    key = _figures_key("dashboard-html", request, coalition, last_meeting, form.summary_filters(), query=query)

    def render_parts():
        _form, figures, chart_set = _figures(request, coalition, last_meeting, form)
        parts = {
            "coalition": coalition,
            "summary": figures.summary,
            "figures": figures,
            "charts": chart_set,
            "breakdown_sections": [
                (key, heading, column, figures.breakdowns[key], chart_set[key])
                for key, heading, column in (
                    ("kind", _("By kind"), _("Kind")),
                    ("channel", _("By channel"), _("Channel")),
                )
            ],
            "query": query,
            "pledge_statuses": dict(Pledge.Status.choices),
            "priority_statuses": dict(PriorityPurchase.Status.choices),
        }
        return {
            "headline": render_to_string("reports/dashboard_headline.html", parts, request),
            "sections": render_to_string("reports/dashboard_figures.html", parts, request),
        }

    return form, figure_cache.cached(key, render_parts)


def figures_for(coalition, last_meeting, **filters):
    """The dashboard's figures of ``coalition`` (published records only), changes counted since
    ``last_meeting``; the public page shows the same figures unfiltered."""
    summary = selectors.coalition_summary(coalition, **filters)
    members = selectors.member_table(coalition, as_of=selectors.meeting_cutoff(last_meeting), **filters)
    coverage_rows = selectors.priority_coverage(coalition)
    return Figures(
        summary=summary,
        headline=selectors.headline(summary, members, coverage_rows, meeting=last_meeting),
        members=members,
        breakdowns=selectors.breakdowns(coalition, **filters),
        coverage=coverage_rows,
        as_of=selectors.data_as_of(coalition),
        meetings=list(held_meetings(coalition)),
    )


def _tables(figures):
    """The dashboard's tables as (caption, header, rows of plain values): the CSV exports, and the
    numbers the charts draw."""
    summary = figures.summary
    since = [_("Confirmed since last meeting (EUR)"), _("Pledged since last meeting (EUR)")]
    since += [_("Disbursed since last meeting (EUR)")]
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
            _("Every member: confirmed, disbursed and waiting"),
            [
                _("Rank"),
                _("Code"),
                _("Member"),
                _("Total (EUR)"),
                _("Confirmed (EUR)"),
                _("Announced, not yet confirmed (EUR)"),
                _("Disbursed (EUR)"),
                _("Disbursed share of confirmed"),
                _("Oldest unconfirmed pledge (days)"),
                *since,
            ],
            [
                [
                    index,
                    row.code,
                    row.name,
                    row.total_eur,
                    row.confirmed_eur,
                    row.announced_eur,
                    row.disbursed_eur,
                    row.disbursed_share,
                    row.oldest_unconfirmed_days,
                    *(
                        [row.since.confirmed_eur, row.since.pledged_eur, row.since.disbursed_eur]
                        if row.since
                        else [None, None, None]
                    ),
                ]
                for index, row in enumerate(figures.members, start=1)
            ],
        ),
        **{
            key: (
                caption,
                [
                    label,
                    _("Pledges"),
                    _("Total (EUR)"),
                    _("Confirmed (EUR)"),
                    _("Announced, not yet confirmed (EUR)"),
                    _("Disbursed (EUR)"),
                    _("Share"),
                ],
                [
                    [
                        row.label,
                        row.count,
                        row.total_eur,
                        row.confirmed_eur,
                        row.announced_eur,
                        row.disbursed_eur,
                        row.share,
                    ]
                    for row in figures.breakdowns[key]
                ],
            )
            for key, caption, label in (
                ("kind", _("Pledged by kind"), _("Kind")),
                ("channel", _("Pledged by channel"), _("Channel")),
            )
        },
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
                _("Covered by confirmed pledges (EUR)"),
                _("Covered by announced pledges only (EUR)"),
                _("Confirmed coverage"),
                _("Announced-only coverage"),
                _("Not covered by confirmed pledges (EUR)"),
            ],
            [
                [
                    row.rank,
                    row.title,
                    row.status,
                    row.estimated_cost_eur,
                    row.confirmed_eur,
                    row.announced_eur,
                    row.confirmed_coverage,
                    row.announced_coverage,
                    row.unfunded_eur,
                ]
                for row in figures.coverage
            ],
        ),
    }


def _charts(figures):
    summary = figures.summary
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
        [charts.Bar(row.name, row.confirmed_eur, money(row.confirmed_eur)) for row in figures.members],
        title=_("Confirmed by member"),
        desc=_("Each member's confirmed pledges in EUR, largest first; members with nothing confirmed show zero."),
    )
    for key, title in (("kind", _("Pledged by kind")), ("channel", _("Pledged by channel"))):
        result[key] = charts.hbar_chart(
            [
                charts.Bar(row.label, row.total_eur, f"{money(row.total_eur)} · {charts.percent(row.share)}")
                for row in figures.breakdowns[key]
            ],
            title=title,
            desc=_("Announced and confirmed pledges in EUR, with each one's share of the total."),
            value_width=150,
        )
    result["months"] = charts.time_chart(
        [
            (_("Total"), [(row.month, row.cumulative_total_eur) for row in summary.by_month]),
            (_("Confirmed"), [(row.month, row.cumulative_confirmed_eur) for row in summary.by_month]),
        ],
        meetings=[(timezone.localdate(m.starts_at), m.title) for m in figures.meetings],
        target=summary.target_eur,
        title=_("Cumulative pledges over time"),
        desc=_(
            "Running totals by month on a time axis: pledged (solid line, circles) and confirmed (dashed "
            "line, squares); held meetings are dotted vertical lines."
        ),
    )
    result["priorities"] = charts.split_chart(
        [
            charts.Split(
                f"#{row.rank} {row.title}",
                row.confirmed_coverage,
                row.announced_coverage,
                _("%(confirmed)s + %(announced)s")
                % {
                    "confirmed": charts.percent(row.confirmed_coverage),
                    "announced": charts.percent(row.announced_coverage),
                },
            )
            for row in figures.coverage
        ],
        legend=(_("confirmed"), _("announced only")),
        title=_("Coverage of priority purchases"),
        desc=_(
            "Each priority's estimated cost covered by confirmed pledges (solid) and by pledges announced "
            "but not yet confirmed (hatched)."
        ),
    )
    return result


def _recent_changes(request, coalition):
    """The latest public changes, cached like the figures: every write to a published pledge or its
    disbursements moves the change stamp, whether or not it moves a total."""
    key = figure_cache.fingerprint("recent", coalition, request.user, {})
    return figure_cache.cached(key, lambda: recent_changes(coalition))


@require_GET
def dashboard(request, slug):
    """A coalition's dashboard: where the money stands, its priorities, meetings and recent changes."""
    user = request.user
    coalition = _coalition(user, slug)
    last_meeting, next_meeting = last_and_next_meeting(coalition)
    form, figure_html = _figure_html(request, coalition, last_meeting)
    context = {
        "coalition": coalition,
        "coalitions": list(Coalition.objects.visible_to(user).only("pk", "slug", "name")),
        "form": form,
        "figure_html": figure_html,
        "last_meeting": last_meeting,
        "last_decisions": list(last_meeting.decisions.all()) if last_meeting else [],
        "next_meeting": next_meeting,
        "action_items": list(open_action_items(coalition)[:ACTION_ITEMS_SHOWN]),
        "recent_changes": (
            _recent_changes(request, coalition) if permissions.can_read_internal(user, coalition) else None
        ),
        "can_manage": permissions.can_manage(user, coalition),
        "pledge_statuses": dict(Pledge.Status.choices),
    }
    return render(request, "reports/dashboard.html", context)


@require_GET
def dashboard_export(request, slug, table):
    """One of the dashboard's tables as CSV, with the same filters as the page."""
    coalition = _coalition(request.user, slug)
    last_meeting, _next = last_and_next_meeting(coalition)
    _form, figures, _drawn = _figures(request, coalition, last_meeting)
    tables = _tables(figures)
    if table not in tables:
        raise Http404(_("No such table."))
    _caption, header, rows = tables[table]
    return csv_response(f"{coalition.slug}-{table}", header, rows)


@require_POST
def dashboard_public(request, slug):
    """The secretariat switches the coalition's public page on or off (with the version it read)."""
    coalition = _coalition(request.user, slug)
    public = request.POST.get("public") == "1"
    try:
        services.coalition_update(
            acting_user=request.user, coalition=coalition, version=request.POST.get("version"), public=public
        )
    except (ValidationError, ConflictError) as exc:
        messages.error(request, str(exc.message) if isinstance(exc, ConflictError) else " ".join(exc.messages))
    else:
        messages.success(
            request, _("The public page is on.") if public else _("The public page is off: it now answers 404.")
        )
    return redirect("reports:dashboard", slug=coalition.slug)
