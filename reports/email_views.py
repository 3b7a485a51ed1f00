"""Pages of the report emails: the user's subscriptions and language, the unsubscribe link's page,
and the secretariat's delivery log."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coalition import permissions
from coalition.models import Coalition
from reports import mail_selectors, services, tasks
from reports.filtersets import DeliveryFilterSet
from reports.models import Delivery, Report

PAGE_SIZE = 50


class ProfileForm(forms.Form):
    """One checkbox per report the user may receive in each coalition they serve, and the language."""

    language = forms.ChoiceField(label=gettext_lazy("Language of your report emails"), choices=settings.LANGUAGES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscription_fields = {}
        self.rows = []
        for coalition in Coalition.objects.visible_to(user).order_by("name"):
            cells = []
            for report, label in Report.choices:
                if not permissions.can_receive_report(user, coalition, report):
                    cells.append(None)
                    continue
                name = f"sub_{coalition.pk}_{report}"
                self.fields[name] = forms.BooleanField(
                    required=False,
                    label=_("%(report)s of %(coalition)s") % {"report": label, "coalition": coalition.name},
                )
                self.subscription_fields[name] = (coalition, report)
                cells.append(self[name])
            if any(cells):
                self.rows.append({"coalition": coalition, "cells": cells})

    def wanted(self):
        """``{(coalition, report)}`` ticked."""
        return {key for name, key in self.subscription_fields.items() if self.cleaned_data.get(name)}


@require_http_methods(["GET", "POST"])
def profile(request):
    """The user's report subscriptions per coalition and report, and the language they are written in."""
    user = request.user
    current = mail_selectors.user_subscriptions(user)
    language = getattr(getattr(user, "profile", None), "language", None)
    initial = {"language": language or request.LANGUAGE_CODE}
    initial.update({f"sub_{coalition_id}_{report}": True for coalition_id, report in current})
    form = ProfileForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            added, removed = services.subscriptions_set(acting_user=user, user=user, wanted=form.wanted())
            services.profile_language_set(acting_user=user, user=user, language=form.cleaned_data["language"])
        messages.success(request, _("Your report emails are saved."))
        return redirect("reports:profile")
    return render(
        request,
        "reports/profile.html",
        {"form": form, "reports": Report.choices, "email": user.email},
    )


def _token_or_none(token):
    try:
        return services.unsubscribe_token_read(token)
    except signing.BadSignature:
        return None


@login_not_required
@csrf_exempt  # the signed token is the authority; mail clients POST here for one-click unsubscribe (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks to confirm; POST unsubscribes whoever the token names."""
    data = _token_or_none(token)
    if data is None:
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=404)
    coalition = Coalition.objects.filter(pk=data["c"]).first()
    context = {
        "email": data["e"],
        "coalition": coalition,
        "report_label": Report(data["r"]).label if data["r"] in Report.values else data["r"],
        "token": token,
        "has_subscription": data.get("u") is not None,
    }
    if request.method == "POST":
        context["done"] = True
        context["removed"] = services.unsubscribe_by_token(token=token)
    return render(request, "reports/unsubscribe.html", context)


@require_GET
def delivery_list(request):
    """The deliveries of the coalitions the user is secretariat of: filters, newest first, paged."""
    user = request.user
    permissions.ensure(permissions.can_view_deliveries(user), _("Only the secretariat sees the delivery log."))
    filterset = DeliveryFilterSet(
        request.GET or None,
        queryset=mail_selectors.delivery_list(user),
        coalitions=Coalition.objects.editable_by(user).order_by("name"),
    )
    page = Paginator(filterset.qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/delivery_list.html",
        {"filterset": filterset, "page_obj": page, "deliveries": page.object_list, "Status": Delivery.Status},
    )


@require_POST
def delivery_retry(request, pk):
    """Send a failed delivery again (the secretariat's decision after reading the error)."""
    delivery = get_object_or_404(mail_selectors.delivery_list(request.user), pk=pk)
    try:
        services.delivery_retry(acting_user=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        tasks.queue_deliveries([delivery.pk])
        messages.success(
            request, _("The delivery to %(recipient)s is queued again.") % {"recipient": delivery.recipient}
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "reports:deliveries"
    return redirect(back)
