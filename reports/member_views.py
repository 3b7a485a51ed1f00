"""A member's profile page: its seats, pledges (those the user may see), totals by status, the
meetings it attended and the open action items it owns, across the user's coalitions (read by
``reports.selectors.member_profile``)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from coalition import permissions
from coalition.models import Member
from reports import selectors

PLEDGE_PAGE_SIZE = 50


@require_GET
def member_detail(request, code):
    member = permissions.get_visible(Member.objects.all(), request.user, code=str(code).upper())
    profile = selectors.member_profile(request.user, member)
    page = Paginator(profile.pledges, PLEDGE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/member_detail.html",
        {
            "member": member,
            "seats": profile.seats,
            "status_rows": profile.status_rows,
            "totals": profile.totals,
            "page_obj": page,
            "pledges": page.object_list,
            "attended": profile.attended,
            "open_items": profile.open_items,
            "today": timezone.localdate(),
        },
    )
