"""The report emails as messages: HTML (tables, CSS bars, inline styles) with a plain-text twin, in
the recipient's language, with absolute links from SITE_URL and an unsubscribe link and header."""

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from meetings.models import Attendance
from meetings.selectors import last_and_next_meeting, open_action_items
from reports import mail_selectors, services
from reports.models import Report
from reports.selectors import coalition_summary

#: How many open action items a digest lists (the dashboard has them all).
ACTION_ITEMS_SHOWN = 15


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def bar_width(fraction):
    """A CSS bar's width in whole percent, 0-100 (a bar never overflows its track)."""
    if fraction is None:
        return 0
    return int(max(Decimal(0), min(Decimal(fraction), Decimal(1))) * 100)


def _share(part, whole):
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def _figures(summary):
    """Totals against the target, each with the width of its bar."""
    scale = summary.target_eur or max(summary.total_eur, Decimal(1))
    rows = [
        (_("Pledged (announced and confirmed)"), summary.total_eur),
        (_("Confirmed"), summary.confirmed_eur),
        (_("Announced, not yet confirmed"), summary.announced_eur),
        (_("Disbursed"), summary.disbursed_eur),
    ]
    return [
        {
            "label": label,
            "amount": amount,
            "share": _share(amount, summary.target_eur),
            "width": bar_width(_share(amount, scale)),
        }
        for label, amount in rows
    ]


def digest_context(delivery):
    coalition = delivery.coalition
    summary = coalition_summary(coalition)
    last_meeting, next_meeting = last_and_next_meeting(coalition)
    items = open_action_items(coalition)
    return {
        "subject": _("%(coalition)s: weekly digest %(period)s")
        % {"coalition": coalition.name, "period": delivery.period},
        "summary": summary,
        "figures": _figures(summary),
        "changes": mail_selectors.digest_changes(coalition, delivery.period_start, delivery.period_end),
        "pledges_url": absolute(f"{reverse('pledges:list')}?coalition={coalition.slug}"),
        "period_start": delivery.period_start,
        "period_end": delivery.period_end,
        "unfunded": [{"row": row, "width": bar_width(row.coverage)} for row in summary.unfunded_priorities],
        "unfunded_gap_eur": sum((row.gap_eur for row in summary.unfunded_priorities), Decimal("0.00")),
        "last_meeting": last_meeting,
        "next_meeting": next_meeting,
        "next_meeting_url": absolute(reverse("meetings:detail", args=[next_meeting.pk])) if next_meeting else "",
        "action_items": list(items[:ACTION_ITEMS_SHOWN]),
        "action_items_count": items.count(),
    }


def meeting_context(delivery):
    meeting = mail_selectors.meeting_for_summary(delivery.meeting_id)
    if meeting is None:
        raise LookupError(f"Meeting {delivery.meeting_id} of delivery {delivery.pk} no longer exists.")
    attendances = list(meeting.attendances.all())
    pledges = list(meeting.confirmed_pledges.all())
    return {
        "subject": _("%(coalition)s: summary of %(meeting)s")
        % {"coalition": meeting.coalition.name, "meeting": meeting.title},
        "meeting": meeting,
        "meeting_url": absolute(reverse("meetings:detail", args=[meeting.pk])),
        "present": [a for a in attendances if a.status == Attendance.Status.PRESENT],
        "apologies": [a for a in attendances if a.status == Attendance.Status.APOLOGIES],
        "invited": [a for a in attendances if a.status == Attendance.Status.INVITED],
        "decisions": list(meeting.decisions.all()),
        "action_items": list(meeting.action_items.all()),
        "pledges": pledges,
        "pledges_eur": sum((p.amount_eur for p in pledges), Decimal("0.00")),
    }


def notice_context(delivery):
    pledge = mail_selectors.pledge_for_notice(delivery.pledge_id)
    if pledge is None:
        raise LookupError(f"Pledge {delivery.pledge_id} of delivery {delivery.pk} no longer exists.")
    summary = coalition_summary(pledge.coalition)
    return {
        "subject": _("%(coalition)s: %(member)s confirmed %(amount)s EUR")
        % {
            "coalition": pledge.coalition.name,
            "member": pledge.member.name,
            "amount": _plain_amount(pledge.amount_eur),
        },
        "pledge": pledge,
        "pledge_url": absolute(reverse("pledges:detail", args=[pledge.pk])),
        "meeting_url": absolute(reverse("meetings:detail", args=[pledge.confirmed_at_meeting_id]))
        if pledge.confirmed_at_meeting_id
        else "",
        "summary": summary,
        "figures": _figures(summary),
    }


def _plain_amount(value):
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


CONTEXTS = {Report.DIGEST: digest_context, Report.MEETING: meeting_context, Report.NOTICE: notice_context}


def unsubscribe_url(delivery):
    token = services.unsubscribe_token(
        report=delivery.report, coalition_id=delivery.coalition_id, email=delivery.recipient, user_id=delivery.user_id
    )
    return absolute(reverse("reports:unsubscribe", args=[token]))


def build_message(delivery):
    """The delivery's email, rendered now in its recipient's language."""
    coalition = delivery.coalition
    unsubscribe = unsubscribe_url(delivery)
    with translation.override(delivery.language), timezone.override(settings.TIME_ZONE):
        context = CONTEXTS[delivery.report](delivery)
        context.update(
            {
                "delivery": delivery,
                "coalition": coalition,
                "site_url": settings.SITE_URL,
                "dashboard_url": absolute(reverse("reports:dashboard", args=[coalition.slug])),
                "profile_url": absolute(reverse("reports:profile")),
                "unsubscribe_url": unsubscribe,
                "report_label": Report(delivery.report).label,
                "language": delivery.language,
            }
        )
        subject = " ".join(str(context["subject"]).split())
        text = render_to_string(f"reports/email/{delivery.report}.txt", context)
        html = render_to_string(f"reports/email/{delivery.report}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={
            "Message-ID": delivery.message_id,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": delivery.language,
            "X-Coalition-Report": f"{delivery.report} {delivery.period}",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
