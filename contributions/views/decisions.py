"""Recording a meeting's decision with the pledges and priorities it concerns (the secretariat)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coalition import permissions
from coalition.webforms import add_service_error
from contributions.decision_forms import DecisionForm
from contributions.services import decision_link
from meetings import selectors as meeting_selectors
from meetings import services as meeting_services


@require_http_methods(["GET", "POST"])
def decision_create(request, pk):
    """The decision's text and kind, and the pledges and priorities of the coalition it concerns."""
    user = request.user
    meeting = permissions.get_editable(meeting_selectors.meeting_list(user), user, pk=pk)
    form = DecisionForm(request.POST or None, meeting=meeting, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                decision = meeting_services.decision_record(
                    acting_user=user, meeting=meeting, text=data["text"], kind=data["kind"]
                )
                if data["pledges"] or data["priorities"]:
                    decision_link(
                        acting_user=user, decision=decision, pledges=data["pledges"], priorities=data["priorities"]
                    )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect(reverse("meetings:detail", args=[meeting.pk]) + "#decisions")
    return render(request, "contributions/decision_form.html", {"form": form, "meeting": meeting})
