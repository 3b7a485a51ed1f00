"""The dashboards: a coalition's figures as charts with their tables, and the tables as CSV."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from coalition import permissions


@require_GET
def home(request):
    """The user's first coalition's dashboard, or a page saying they serve none yet."""
    coalition = permissions.visible_coalitions(request.user).order_by("name").first()
    if coalition is not None:
        return redirect("reports:dashboard", slug=coalition.slug)
    return render(request, "reports/no_coalition.html")
