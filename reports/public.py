"""A coalition's public page: its published figures, priorities and held meetings for anyone, without
signing in or JavaScript, with each table as CSV and each chart as an SVG of its own.

Everything is read through the visibility layer's ``public()`` querysets and the dashboard's own
selector (``coalition_summary``, which counts published pledges only), so the page can show nothing
a partner could not read, and less: no delegates, minutes, agenda, action items, history or people.
Each response is cached (Django's cache) under a key holding the language and a fingerprint of the
coalition's newest change, so any write, a deletion included, is seen on the next request.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from coalition import permissions
from coalition.exports import csv_text
from coalition.models import Coalition
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings.models import Decision, Meeting
from meetings.selectors import last_and_next_meeting
from reports.receivers import PUBLIC_GENERATION_KEY as GENERATION_KEY
from reports.views import _charts, _tables, figures_for

#: How long a rendered page, CSV or chart is kept. Writes invalidate it at once through the
#: fingerprint; the timeout only bounds the memory a coalition nobody changes keeps in the cache.
CACHE_SECONDS = 3600
SVG_TYPE = "image/svg+xml"


def _newest(history_queryset):
    return Subquery(history_queryset.order_by("-history_date").values("history_date")[:1])


def with_changes(queryset):
    """Coalitions with ``changed_*`` annotations: the newest history row of each kind of record the
    public page and the IATI export show (a deletion leaves one too), in the same query."""
    coalition_id = OuterRef("pk")
    return queryset.annotate(
        changed_pledges=_newest(Pledge.history.filter(coalition_id=coalition_id)),
        changed_disbursements=_newest(Disbursement.history.filter(pledge__coalition_id=coalition_id)),
        changed_priorities=_newest(PriorityPurchase.history.filter(coalition_id=coalition_id)),
        changed_allocations=_newest(Allocation.history.filter(priority__coalition_id=coalition_id)),
        changed_meetings=_newest(Meeting.history.filter(coalition_id=coalition_id)),
        changed_decisions=_newest(Decision.history.filter(meeting__coalition_id=coalition_id)),
    )


def public_coalition(slug):
    """The coalition if its public page is on (404 otherwise), with its ``changed_*`` annotations."""
    return permissions.get_public(with_changes(Coalition.objects.all()), slug=slug)


def data_as_of(coalition):
    """The moment of the newest change the page reflects (the coalition's own, at the least)."""
    moments = [
        coalition.updated_at,
        coalition.changed_pledges,
        coalition.changed_disbursements,
        coalition.changed_priorities,
        coalition.changed_allocations,
        coalition.changed_meetings,
        coalition.changed_decisions,
    ]
    return max(moment for moment in moments if moment is not None)


def fingerprint(coalition):
    moments = [
        coalition.changed_pledges,
        coalition.changed_disbursements,
        coalition.changed_priorities,
        coalition.changed_allocations,
        coalition.changed_meetings,
        coalition.changed_decisions,
    ]
    parts = [str(coalition.version), coalition.updated_at.isoformat(), *(m.isoformat() if m else "-" for m in moments)]
    parts.append(str(cache.get(GENERATION_KEY, 0)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def held_meetings(coalition):
    """The coalition's public meetings (held), newest first, each with its public decisions."""
    return list(
        Meeting.objects.public()
        .filter(coalition=coalition)
        .order_by("-starts_at", "-pk")
        .only("pk", "title", "kind", "starts_at", "coalition_id")
        .prefetch_related(Prefetch("decisions", queryset=Decision.objects.public().order_by("pk")))
    )


def _meeting_table(meetings):
    rows = []
    for meeting in meetings:
        base = [meeting.starts_at.date().isoformat(), meeting.title, meeting.get_kind_display()]
        rows.extend([*base, decision.text] for decision in meeting.decisions.all())
        if not meeting.decisions.all():
            rows.append([*base, ""])
    return (_("Meetings held and their decisions"), [_("Date"), _("Meeting"), _("Kind"), _("Decision")], rows)


def _language(request):
    """``?lang=uk`` picks the language (plain links, so the switch works without JavaScript and the
    cached page carries no form token); otherwise the portal's choice (cookie, browser)."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(settings.LANGUAGES) else translation.get_language()


def _cached(request, slug, name, build):
    """The response ``build(coalition)`` gives, cached per coalition, artefact, language and fingerprint."""
    language = _language(request)
    coalition = public_coalition(slug)
    key = f"public:{coalition.pk}:{name}:{language}:{fingerprint(coalition)}"
    stored = cache.get(key)
    if stored is None:
        with translation.override(language):
            stored = build(coalition)
        cache.set(key, stored, CACHE_SECONDS)
    body, content_type, filename = stored
    response = HttpResponse(body, content_type=content_type)
    response["Content-Language"] = language
    response["Cache-Control"] = "public, max-age=60"
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _figures(coalition):
    return figures_for(coalition, last_and_next_meeting(coalition)[0])


def _page(coalition):
    figures = _figures(coalition)
    meetings = held_meetings(coalition)
    context = {
        "coalition": coalition,
        "summary": figures.summary,
        "charts": _charts(figures),
        "meetings": meetings,
        "as_of": data_as_of(coalition),
        "languages": [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES],
    }
    return render_to_string("reports/public.html", context), "text/html; charset=utf-8", None


def _table(coalition, table):
    tables = _tables(_figures(coalition))
    tables["meetings"] = _meeting_table(held_meetings(coalition))
    if table not in tables:
        raise Http404(_("No such table."))
    _caption, header, rows = tables[table]
    return csv_text(header, rows).encode(), "text/csv; charset=utf-8", f"{coalition.slug}-{table}.csv"


def _chart(coalition, name):
    charts = _charts(_figures(coalition))
    if name not in charts:
        raise Http404(_("No such chart."))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + str(charts[name]), SVG_TYPE, None


@login_not_required
@require_GET
def page(request, slug):
    """The public page: totals, members, priorities with coverage and held meetings with their decisions."""
    return _cached(request, slug, "page", _page)


@login_not_required
@require_GET
def table(request, slug, table):
    """One of the public page's tables as CSV."""
    return _cached(request, slug, f"csv:{table}", lambda coalition: _table(coalition, table))


@login_not_required
@require_GET
def chart(request, slug, name):
    """One of the public page's charts alone, as SVG, for embedding in another site (``<img src>``)."""
    response = _cached(request, slug, f"svg:{name}", lambda coalition: _chart(coalition, name))
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
