"""A member's profile page: its seats, pledges (those the user may see), totals by status, the
meetings it attended and the open action items it owns, across the user's coalitions.

The page reads pledges, attendances and action items through the member's reverse relations and
the permissions module, so this lowest-layer app imports nothing from meetings or contributions.
"""

from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from coalition import permissions
from contributions import selectors

PLEDGE_PAGE_SIZE = 50


@require_GET
def member_detail(request, code):
    user = request.user
    member = permissions.member_for_view(user, code)
    coalition_ids = permissions.visible_coalitions(user).values("pk")
    pledge_model = member.pledges.model
    statuses = pledge_model.Status

    pledges = permissions.visible_pledges(user, member.pledges.all())
    by_status = {
        row["status"]: row
        for row in pledges.order_by()
        .values("status")
        .annotate(count=Count("pk"), amount_eur=selectors.euro_sum("amount_eur"))
    }
    status_rows = [
        {
            "status": value,
            "label": label,
            "count": by_status.get(value, {}).get("count", 0),
            "amount_eur": by_status.get(value, {}).get("amount_eur") or Decimal("0.00"),
        }
        for value, label in statuses.choices
    ]
    amounts = {row["status"]: row["amount_eur"] for row in status_rows}
    totals = {
        "total": sum((amounts[s] for s in pledge_model.COUNTED), Decimal("0.00")),
        "confirmed": sum((amounts[s] for s in pledge_model.CONFIRMED_STATUSES), Decimal("0.00")),
        "announced": amounts[statuses.ANNOUNCED],
    }
    page = Paginator(
        pledges.select_related("coalition", "confirmed_at_meeting").order_by("-announced_on", "-pk"),
        PLEDGE_PAGE_SIZE,
    ).get_page(request.GET.get("page"))

    attended = (
        member.attendances.filter(meeting__coalition__in=coalition_ids, status="present")
        .select_related("meeting__coalition")
        .order_by("-meeting__starts_at")
    )
    open_items = (
        member.action_items.filter(meeting__coalition__in=coalition_ids, status="open")
        .select_related("meeting__coalition")
        .order_by("due_on", "pk")
    )
    seats = member.memberships.filter(coalition__in=coalition_ids).select_related("coalition")
    return render(
        request,
        "coalition/member_detail.html",
        {
            "member": member,
            "seats": list(seats),
            "status_rows": status_rows,
            "totals": totals,
            "page_obj": page,
            "pledges": page.object_list,
            "attended": list(attended),
            "open_items": list(open_items),
            "today": timezone.localdate(),
        },
    )
