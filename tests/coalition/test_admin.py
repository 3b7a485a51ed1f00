"""The admin: every page of every model loads on the demo data, and every write goes through the services.

The demo is loaded once for the module (rolled back at the end); each test runs in its own
transaction on top of it.
"""

import html
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from coalition import services as coalition_services
from coalition.models import APIKey, Coalition, Member, Membership
from contributions import services
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from contributions.services.imports import pledge_import_parse
from meetings import services as meeting_services
from meetings.models import ActionItem, Attendance, Meeting
from tests import factories

APPS = ("coalition", "meetings", "contributions")
FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def _models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in APPS and not model.__name__.startswith("Historical")
    ]


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo coalition, plus the records it does not have (an API key, a payment, an allocation, a
    former seat)."""
    with django_db_blocker.unblock(), FAST_HASHER, transaction.atomic():
        call_command("load_demo", allow_production=True, stdout=io.StringIO())
        coalition = Coalition.objects.get(slug="it-coalition")
        pledge = Pledge.objects.filter(coalition=coalition, status="confirmed").order_by("pk").first()
        services.disbursement_record(
            acting_user=None, pledge=pledge, amount=Decimal("1000.00"), date=pledge.announced_on
        )
        priority = PriorityPurchase.objects.filter(coalition=coalition, status__in=PriorityPurchase.ACTIVE).first()
        if not Allocation.objects.exists():
            services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("10.00"))
        if not ActionItem.objects.exists():
            meeting = Meeting.objects.filter(coalition=coalition).first()
            meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Follow up")
        upload = SimpleUploadedFile(
            "pledges.csv", b"member,title,amount,currency,announced_on\nEE,Imported,1000.00,EUR,2024-02-02\n"
        )
        pledge_import_parse(upload, coalition, None)
        owner = factories.persona("api_partner", "partner", coalitions=[coalition])
        coalition_services.api_key_create(owner=owner, name="demo key")
        # A seat changed once (the change feed keeps the seat it ended).
        coalition_services.seat_set(acting_user=None, user=owner, coalition=coalition, role="steering")
        coalition_services.seat_set(acting_user=None, user=owner, coalition=coalition, role="partner")
        services.pledge_export_request(acting_user=owner, fmt="csv", query="status=confirmed")
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_loaded, db):
    return Coalition.objects.get(slug="it-coalition")


@pytest.fixture
def admin_user(demo):
    """A superuser of our own (the demo already has an "admin")."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.org", factories.PASSWORD)


@pytest.fixture
def superuser_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- Every page loads ----------------------------------------------------------------------------


def _inline_models():
    """Models edited inline on another model's page (a user's seats and profile)."""
    return {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


def test_every_model_has_an_admin():
    inline = _inline_models()
    missing = [m._meta.label for m in _models() if not admin.site.is_registered(m) and m not in inline]
    assert missing == []


@pytest.mark.parametrize("model", [m for m in _models() if admin.site.is_registered(m)], ids=lambda m: m._meta.label)
def test_changelist_change_and_history_pages_load(
    demo, superuser_client, admin_user, model, django_assert_max_num_queries
):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the demo data has no {model._meta.label}"
    # A list page costs a bounded number of queries however long the list (list_select_related).
    with django_assert_max_num_queries(30):
        response = superuser_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert superuser_client.get(_url(model, "changelist"), {"q": "a"}).status_code == 200
    assert superuser_client.get(_url(model, "change", obj.pk)).status_code == 200
    assert superuser_client.get(_url(model, "history", obj.pk)).status_code == 200
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    if admin.site._registry[model].has_add_permission(request):
        assert superuser_client.get(_url(model, "add")).status_code == 200


def _change(obj, user, text):
    """Set one text field of ``obj`` to ``text`` through its service; returns the field's name."""
    if isinstance(obj, Pledge):
        services.pledge_update(acting_user=user, pledge=obj, description=text)
        return "description"
    if isinstance(obj, Meeting):
        meeting_services.meeting_update(acting_user=user, meeting=obj, location=text)
        return "location"
    if isinstance(obj, PriorityPurchase):
        services.priority_update(acting_user=user, priority=obj, description=text)
        return "description"
    if isinstance(obj, Disbursement):
        services.disbursement_update(acting_user=user, disbursement=obj, note=text)
        return "note"
    if isinstance(obj, Allocation):
        services.allocation_set(
            acting_user=user, pledge=obj.pledge, priority=obj.priority, amount_eur=obj.amount_eur, note=text
        )
        return "note"
    meeting_services.action_item_update(acting_user=user, action_item=obj, text=text)
    return "text"


@pytest.mark.parametrize("model", [Pledge, Meeting, PriorityPurchase, Disbursement, Allocation, ActionItem])
def test_historied_records_show_their_history_with_changes(demo, superuser_client, admin_user, model):
    obj = model._default_manager.order_by("pk").first()
    unchanged = model._default_manager.get(pk=obj.pk)
    field = _change(obj, admin_user, "Changed in the admin test")
    before = getattr(unchanged, field)
    assert before, f"the demo's first {model.__name__} needs a {field} for the change to replace"
    latest, previous = obj.history.order_by("-history_date", "-history_id")[:2]

    page = superuser_client.get(_url(model, "history", obj.pk)).content.decode()
    # The history page lists the change: the field, its old and new value, and who made it.
    label = capfirst(model._meta.get_field(field).verbose_name)
    changes = page[page.index(f"<strong>{label}:</strong>") :]
    assert html.escape(before[:30]) in changes[: changes.index("&rarr;")]  # long values are abridged
    assert "Changed in the admin test" in changes[: changes.index("</li>")]
    assert admin_user.username in page

    # Each version opens as it was: the new text in the latest, the old one in the version before it.
    for record, text in ((latest, "Changed in the admin test"), (previous, before)):
        response = superuser_client.get(_url(model, "simple_history", obj.pk, record.history_id))
        assert response.status_code == 200
        assert response.context["adminform"].form.initial[field] == text


def test_the_admin_index_lists_the_apps(demo, superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    assert response.status_code == 200
    for label in ("Coalitions", "Pledges", "Meetings", "Priority purchases", "API keys"):
        assert label in response.content.decode()


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "partner", "outsider"])
def test_non_staff_users_are_sent_to_the_login(request, demo, client, persona):
    client.force_login(request.getfixturevalue(persona))
    for model in (Pledge, Meeting, Coalition):
        response = client.get(_url(model, "changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_anonymous_is_sent_to_the_login(demo, client):
    response = client.get(_url(Pledge, "changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not client.get(response["Location"]).context["user"].is_authenticated


# --- Writes go through the services --------------------------------------------------------------


def _pledge_post(coalition, member, **overrides):
    data = {
        "coalition": coalition.pk,
        "member": member.pk,
        "title": "Admin pledge",
        "description": "",
        "kind": "financial",
        "channel": "bilateral",
        "status": "announced",
        "amount": "1088300.00",
        "currency": "USD",
        "explicit_rate": "",
        "explicit_rate_source": "",
        "announced_on": "2024-02-02",
        "confirmed_on": "",
        "confirmed_at_meeting": "",
        "source": "",
        "external_ref": "",
        **_management("disbursements"),
        **_management("allocations"),
    }
    data.update(overrides)
    return data


def _management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def estonia(demo):
    return Member.objects.get(code="EE")


@pytest.fixture
def rates_2024(demo):
    factories.standard_rates()


def test_adding_a_pledge_goes_through_the_service(demo, estonia, superuser_client, admin_user, rates_2024):
    response = superuser_client.post(_url(Pledge, "add"), _pledge_post(demo, estonia))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    pledge = Pledge.objects.get(title="Admin pledge")
    assert (pledge.amount_eur, pledge.exchange_rate, pledge.version) == (Decimal("1000000.00"), Decimal("1.0883"), 1)
    assert pledge.history.get().history_user == admin_user
    assert pledge.status_changed_by == admin_user
    assert LogEntry.objects.filter(object_id=str(pledge.pk), action_flag=1).exists()


def test_a_refused_pledge_shows_the_services_message_on_the_field(demo, estonia, superuser_client, rates_2024):
    count = Pledge.objects.count()
    response = superuser_client.post(_url(Pledge, "add"), _pledge_post(demo, estonia, currency="UAH", amount="100.00"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "UAH" in " ".join(errors["explicit_rate"])
    assert Pledge.objects.count() == count


def test_an_explicit_rate_without_its_source_is_refused(demo, estonia, superuser_client):
    data = _pledge_post(demo, estonia, currency="UAH", amount="40500000.00", explicit_rate="40.5")
    response = superuser_client.post(_url(Pledge, "add"), data)
    assert "explicit_rate_source" in response.context["adminform"].form.errors
    data["explicit_rate_source"] = "National Bank of Ukraine"
    assert superuser_client.post(_url(Pledge, "add"), data).status_code == 302
    assert Pledge.objects.get(title="Admin pledge", currency="UAH").amount_eur == Decimal("1000000.00")


def test_a_pledge_cannot_start_disbursing_from_the_admin(demo, estonia, superuser_client, rates_2024):
    response = superuser_client.post(_url(Pledge, "add"), _pledge_post(demo, estonia, status="disbursing"))
    assert "status" in response.context["adminform"].form.errors
    assert not Pledge.objects.filter(title="Admin pledge").exists()


def _change_post(pledge, **overrides):
    data = _pledge_post(pledge.coalition, pledge.member, title=pledge.title, amount=str(pledge.amount))
    for name in ("coalition", "member", "status"):
        data.pop(name)
    data.update(
        currency=pledge.currency,
        announced_on=pledge.announced_on.isoformat(),
        confirmed_on=pledge.confirmed_on.isoformat() if pledge.confirmed_on else "",
        confirmed_at_meeting=pledge.confirmed_at_meeting_id or "",
        description=pledge.description,
        kind=pledge.kind,
        channel=pledge.channel,
        source=pledge.source,
        external_ref=pledge.external_ref,
        loaded_version=str(pledge.version),
    )
    data.update(overrides)
    return data


@pytest.fixture
def eur_pledge(demo, estonia):
    return factories.make_pledge(
        coalition=demo, member=estonia, amount=Decimal("1000.00"), status="confirmed", title="Test EUR"
    )


def test_changing_a_pledge_goes_through_the_service_with_its_version(eur_pledge, superuser_client, admin_user):
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), _change_post(eur_pledge, amount="2000.00"))
    assert response.status_code == 302
    eur_pledge.refresh_from_db()
    assert (eur_pledge.amount, eur_pledge.amount_eur, eur_pledge.version) == (Decimal("2000.00"), Decimal("2000.00"), 2)
    assert eur_pledge.history.latest().history_user == admin_user


def test_a_stale_admin_page_is_refused_as_a_conflict(eur_pledge, superuser_client):
    stale = _change_post(eur_pledge, title="From a stale page")
    services.pledge_update(acting_user=None, pledge=eur_pledge, title="Changed meanwhile")
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), stale)
    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["adminform"].form.non_field_errors())
    eur_pledge.refresh_from_db()
    assert (eur_pledge.title, eur_pledge.version) == ("Changed meanwhile", 2)


def test_computed_fields_cannot_be_posted(eur_pledge, superuser_client):
    data = _change_post(eur_pledge, amount_eur="1.00", status="fulfilled", disbursed_amount="1000.00", version="9")
    assert superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data).status_code == 302
    eur_pledge.refresh_from_db()
    assert (eur_pledge.amount_eur, eur_pledge.status, eur_pledge.disbursed_amount) == (
        Decimal("1000.00"),
        "confirmed",
        Decimal("0.00"),
    )


def test_a_disbursement_inline_goes_through_the_service(eur_pledge, superuser_client, admin_user):
    data = _change_post(
        eur_pledge,
        **_management("disbursements", total=1),
        **{
            "disbursements-0-amount": "1000.00",
            "disbursements-0-date": "2024-03-01",
            "disbursements-0-reference": "TX",
        },
    )
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data)
    assert response.status_code == 302
    eur_pledge.refresh_from_db()
    assert (eur_pledge.status, eur_pledge.disbursed_amount) == ("fulfilled", Decimal("1000.00"))
    assert eur_pledge.disbursements.get().created_by == admin_user


def test_deleting_a_disbursement_inline_goes_through_the_service(eur_pledge, superuser_client, admin_user):
    payment = services.disbursement_record(
        acting_user=None, pledge=eur_pledge, amount=Decimal("400.00"), date=date(2024, 3, 1), reference="TX"
    )
    eur_pledge.refresh_from_db()
    data = _change_post(
        eur_pledge,
        **_management("disbursements", total=1, initial=1),
        **{
            "disbursements-0-id": str(payment.pk),
            "disbursements-0-pledge": str(eur_pledge.pk),
            "disbursements-0-amount": "400.00",
            "disbursements-0-date": "2024-03-01",
            "disbursements-0-reference": "TX",
            "disbursements-0-loaded_version": str(payment.version),
            "disbursements-0-DELETE": "on",
        },
    )
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data)
    assert response.status_code == 302
    eur_pledge.refresh_from_db()
    assert not eur_pledge.disbursements.exists()
    assert (eur_pledge.status, eur_pledge.disbursed_amount) == ("confirmed", Decimal("0.00"))
    assert Disbursement.history.filter(id=payment.pk, history_type="-").get().history_user == admin_user


def test_an_invalid_inline_rolls_the_whole_page_back(eur_pledge, superuser_client):
    data = _change_post(
        eur_pledge,
        title="Renamed with a bad payment",
        **_management("disbursements", total=2),
        **{
            "disbursements-0-amount": "600.00",
            "disbursements-0-date": "2024-03-01",
            "disbursements-1-amount": "600.00",
            "disbursements-1-date": "2024-03-02",
        },
    )
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data)
    assert response.status_code == 200
    assert "more than the pledged" in str(response.context["errors"])
    eur_pledge.refresh_from_db()
    assert (eur_pledge.title, eur_pledge.version, eur_pledge.disbursed_amount) == ("Test EUR", 1, Decimal("0.00"))
    assert not eur_pledge.disbursements.exists()


def test_an_allocation_inline_is_limited_by_the_service(eur_pledge, superuser_client, demo):
    priority = PriorityPurchase.objects.filter(coalition=demo, status__in=PriorityPurchase.ACTIVE).first()
    data = _change_post(
        eur_pledge,
        **_management("allocations", total=1),
        **{"allocations-0-priority": str(priority.pk), "allocations-0-amount_eur": "1000.01"},
    )
    response = superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data)
    assert response.status_code == 200
    assert not eur_pledge.allocations.exists()
    data["allocations-0-amount_eur"] = "1000.00"
    assert superuser_client.post(_url(Pledge, "change", eur_pledge.pk), data).status_code == 302
    assert eur_pledge.allocations.get().amount_eur == Decimal("1000.00")


def test_deleting_a_pledge_with_payments_is_refused_with_a_message(eur_pledge, superuser_client):
    services.disbursement_record(acting_user=None, pledge=eur_pledge, amount=Decimal("1.00"), date=date(2024, 3, 1))
    response = superuser_client.post(_url(Pledge, "delete", eur_pledge.pk), {"post": "yes"}, follow=True)
    assert "withdraw it instead" in response.content.decode()
    assert Pledge.objects.filter(pk=eur_pledge.pk).exists()


def test_deleting_a_pledge_goes_through_the_service(demo, estonia, superuser_client, admin_user):
    pledge = factories.make_pledge(coalition=demo, member=estonia, title="Mistake")
    response = superuser_client.post(_url(Pledge, "delete", pledge.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Pledge.objects.filter(pk=pledge.pk).exists()
    assert Pledge.history.filter(id=pledge.pk).latest().history_user == admin_user


def test_lifecycle_actions_call_the_services(demo, estonia, superuser_client):
    draft = factories.make_pledge(coalition=demo, member=estonia, status="draft", title="Draft")
    fulfilled = factories.make_pledge(coalition=demo, member=estonia, status="confirmed", title="Paid")
    services.disbursement_record(acting_user=None, pledge=fulfilled, amount=fulfilled.amount, date=date(2024, 3, 1))
    changelist = _url(Pledge, "changelist")
    superuser_client.post(changelist, {"action": "announce", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "announced"
    response = superuser_client.post(
        changelist, {"action": "withdraw", "_selected_action": [draft.pk, fulfilled.pk]}, follow=True
    )
    draft.refresh_from_db()
    fulfilled.refresh_from_db()
    assert (draft.status, fulfilled.status) == ("withdrawn", "fulfilled")
    content = response.content.decode()
    assert "1 pledges withdrawn" in content
    assert "cannot become withdrawn" in content


def test_the_bulk_delete_action_is_not_offered(demo, superuser_client):
    response = superuser_client.get(_url(Pledge, "changelist"))
    assert "delete_selected" not in response.content.decode()


def test_history_revert_is_refused(demo, superuser_client):
    pledge = Pledge.objects.order_by("pk").first()
    record = pledge.history.order_by("history_date").first()
    url = reverse("admin:contributions_pledge_simple_history", args=[pledge.pk, record.history_id])
    assert superuser_client.post(url, {"title": "Reverted"}).status_code == 403
    pledge.refresh_from_db()
    assert pledge.title != "Reverted"


# --- Meetings ------------------------------------------------------------------------------------


def _meeting_post(meeting, **overrides):
    local = timezone.localtime(meeting.starts_at)
    data = {
        "title": meeting.title,
        "kind": meeting.kind,
        "starts_at_0": local.date().isoformat(),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
        "location": meeting.location,
        "online": "on" if meeting.online else "",
        "minutes": meeting.minutes,
        "minutes_status": meeting.minutes_status,
        "loaded_version": str(meeting.version),
        **_management("attendances"),
        **_management("agenda_items"),
        **_management("decisions"),
        **_management("action_items"),
    }
    if not meeting.online:
        data.pop("online")
    data.update(overrides)
    return data


@pytest.fixture
def planned(demo, secretariat):
    return meeting_services.meeting_create(
        acting_user=None, coalition=demo, title="Expert group", starts_at=timezone.now() - timedelta(hours=3)
    )


def test_meeting_inlines_go_through_the_services(planned, superuser_client, estonia, admin_user):
    data = _meeting_post(
        planned,
        location="Riga",
        **_management("attendances", total=1),
        **{"attendances-0-member": str(estonia.pk), "attendances-0-role": "chair", "attendances-0-status": "present"},
        **_management("agenda_items", total=1),
        **{"agenda_items-0-title": "Opening", "agenda_items-0-order": ""},
        **_management("decisions", total=1),
        **{"decisions-0-kind": "other", "decisions-0-text": "  Agreed  "},
        **_management("action_items", total=1),
        **{"action_items-0-text": "Send the roadmap", "action_items-0-status": "open"},
    )
    response = superuser_client.post(_url(Meeting, "change", planned.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    planned.refresh_from_db()
    assert (planned.location, planned.version) == ("Riga", 2)
    attendance = planned.attendances.get()
    assert (attendance.member, attendance.role, attendance.history.get().history_user) == (estonia, "chair", admin_user)
    assert [item.order for item in planned.agenda_items.all()] == [1]
    assert planned.decisions.get().text == "Agreed"
    assert planned.action_items.get().history.get().history_user == admin_user


def test_attendance_of_a_non_member_rolls_the_meeting_page_back(planned, superuser_client):
    stranger = factories.MemberFactory(code="ZZ", name="Nowhere")
    data = _meeting_post(
        planned,
        location="Vilnius",
        **_management("attendances", total=1),
        **{
            "attendances-0-member": str(stranger.pk),
            "attendances-0-role": "participant",
            "attendances-0-status": "present",
        },
    )
    response = superuser_client.post(_url(Meeting, "change", planned.pk), data)
    assert response.status_code == 200
    assert "not a member" in str(response.context["errors"])
    planned.refresh_from_db()
    assert (planned.location, planned.version) == ("", 1)
    assert not Attendance.objects.filter(meeting=planned).exists()


def test_mark_held_action(planned, superuser_client, admin_user):
    superuser_client.post(_url(Meeting, "changelist"), {"action": "mark_held", "_selected_action": [planned.pk]})
    planned.refresh_from_db()
    assert (planned.status, planned.held_by) == ("held", admin_user)


# --- Coalitions and API keys ---------------------------------------------------------------------


def test_adding_a_membership_inline_goes_through_the_service(demo, superuser_client):
    newcomer = factories.MemberFactory(code="FI", name="Finland")
    existing = list(Membership.objects.filter(coalition=demo).order_by("pk"))
    data = {
        "name": demo.name,
        "description": demo.description,
        "target_eur": str(demo.target_eur or ""),
        **_management("memberships", total=len(existing) + 1, initial=len(existing)),
    }
    for index, membership in enumerate(existing):  # the member of an existing row is locked
        data[f"memberships-{index}-id"] = str(membership.pk)
        data[f"memberships-{index}-role"] = membership.role
        data[f"memberships-{index}-since"] = membership.since.isoformat() if membership.since else ""
    new = len(existing)
    data.update({f"memberships-{new}-member": str(newcomer.pk), f"memberships-{new}-role": "observer"})
    response = superuser_client.post(_url(Coalition, "change", demo.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Membership.objects.get(coalition=demo, member=newcomer).role == "observer"
    assert Membership.objects.filter(coalition=demo).count() == len(existing) + 1


def test_adding_an_api_key_shows_it_once(demo, superuser_client, partner):
    response = superuser_client.post(_url(APIKey, "add"), {"owner": partner.pk, "name": "dashboard"}, follow=True)
    api_key = APIKey.objects.get(name="dashboard")
    shown = [str(message) for message in response.context["messages"] if "copy it now" in str(message)]
    assert len(shown) == 1
    from coalition.api.authentication import hash_key

    raw = next(word for word in shown[0].split() if word.startswith(api_key.prefix))
    assert hash_key(raw) == api_key.digest
    page = superuser_client.get(_url(APIKey, "change", api_key.pk)).content.decode()
    assert api_key.digest not in page
    assert raw not in page


def test_revoking_api_keys(demo, superuser_client):
    api_key = APIKey.objects.get(name="demo key")
    superuser_client.post(_url(APIKey, "changelist"), {"action": "revoke", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_a_persons_seats_are_edited_inline_on_their_page_through_the_seat_services(
    demo, superuser_client, admin_user, other_coalition
):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="steering")
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200
    seat = user.seats.get()
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in ("username", "first_name", "last_name", "email")}
    data.update(
        {
            "is_active": "on",
            "date_joined_0": "2024-02-02",
            "date_joined_1": "10:00:00",
            "seats-TOTAL_FORMS": "2",
            "seats-INITIAL_FORMS": "1",
            "seats-0-id": seat.pk,
            "seats-0-user": user.pk,
            "seats-0-coalition": demo.pk,
            "seats-0-role": "partner",
            "seats-1-user": user.pk,
            "seats-1-coalition": other_coalition.pk,
            "seats-1-role": "secretariat",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-0-id": user.profile.pk,
            "profile-0-user": user.pk,
            "profile-0-language": "uk",
        }
    )

    response = superuser_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert dict(user.seats.values_list("coalition__slug", "role")) == {
        "it-coalition": "partner",
        "other-coalition": "secretariat",
    }
    assert user.seats.get(coalition=other_coalition).history.get().history_user == admin_user
    user.profile.refresh_from_db()
    assert user.profile.language == "uk"


def test_a_refused_seat_rolls_the_persons_page_back(demo, superuser_client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="steering")
    seat = user.seats.get()
    response = superuser_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "renamed",
            "is_active": "on",
            "date_joined_0": "2024-02-02",
            "date_joined_1": "10:00:00",
            "seats-TOTAL_FORMS": "1",
            "seats-INITIAL_FORMS": "1",
            "seats-0-id": seat.pk,
            "seats-0-user": user.pk,
            "seats-0-coalition": demo.pk,
            "seats-0-role": "member-editor",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-0-id": user.profile.pk,
            "profile-0-user": user.pk,
            "profile-0-language": "en",
        },
    )

    assert response.status_code == 200
    assert "A member editor speaks for a member" in response.content.decode()
    user.refresh_from_db()
    assert user.username == "steering"
    assert user.seats.get().role == "steering"


def test_exchange_rates_are_read_only(demo, superuser_client):
    assert superuser_client.get(reverse("admin:contributions_exchangerate_add")).status_code == 403


def test_staff_who_are_not_superusers_see_only_their_coalitions(demo, client, other_coalition):
    from django.contrib.auth.models import Permission

    france = factories.MemberFactory(code="FR", name="France")
    factories.MembershipFactory(member=france, coalition=other_coalition)
    foreign = factories.make_pledge(coalition=other_coalition, member=france, title="Foreign")
    staff = factories.persona("staff_secretariat", "secretariat", coalitions=[demo])
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_pledge", "change_pledge"]))
    client.force_login(staff)
    response = client.get(_url(Pledge, "changelist"))
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list)
    assert shown == set(Pledge.objects.filter(coalition=demo))
    assert foreign not in shown
    assert client.get(_url(Pledge, "change", foreign.pk)).status_code == 302  # "does not exist" redirect
