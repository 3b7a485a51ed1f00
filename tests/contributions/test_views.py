"""The pledge pages: who may list, read, record, change, move along and export pledges."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from contributions import services
from contributions.models import Allocation, Disbursement, Pledge
from meetings.services import meeting_create
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PLEDGE = {
    "title": "Radios for the MoD",
    "kind": "financial",
    "channel": "bilateral",
    "amount": "250000.00",
    "currency": "EUR",
    "announced_on": "2024-02-02",
    "status": "announced",
}


def detail(pledge):
    return reverse("pledges:detail", args=[pledge.pk])


def edit(pledge):
    return reverse("pledges:edit", args=[pledge.pk])


def transition(pledge):
    return reverse("pledges:transition", args=[pledge.pk])


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def draft_a(coalition, member_a, rates):
    return factories.make_pledge(coalition=coalition, member=member_a, status="draft", title="EE draft")


@pytest.fixture
def other_pledge(other_coalition, rates):
    member = factories.MemberFactory(code="DK", name="Denmark")
    factories.MembershipFactory(member=member, coalition=other_coalition)
    return factories.make_pledge(coalition=other_coalition, member=member, title="Elsewhere")


# --- Anonymous: every page sends them to sign in --------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("pledges:list", []),
        ("pledges:create", []),
        ("pledges:import", []),
        ("pledges:detail", [1]),
        ("pledges:edit", [1]),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_anonymous_post_changes_nothing(client, pledge_a):
    response = client.post(transition(pledge_a), {"to": "withdrawn", "version": pledge_a.version})
    assert response.status_code == 302
    pledge_a.refresh_from_db()
    assert pledge_a.status == "announced"


# --- The list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering", "partner"])
def test_coalition_roles_list_published_pledges(client, personas, persona, pledge_a, pledge_b, draft_a, other_pledge):
    body = login(client, personas[persona]).get(reverse("pledges:list")).content.decode()
    assert pledge_a.title in body and pledge_b.title in body
    assert other_pledge.title not in body
    assert (draft_a.title in body) == (persona in ("secretariat", "editor_a"))


def test_outsider_cannot_list_pledges(client, outsider, pledge_a):
    assert login(client, outsider).get(reverse("pledges:list")).status_code == 403


def test_list_uses_the_shared_filters_and_sorting(client, steering, pledge_a, pledge_b):
    login(client, steering)
    body = client.get(reverse("pledges:list"), {"member": "LU"}).content.decode()
    assert pledge_b.title in body and pledge_a.title not in body
    body = client.get(reverse("pledges:list"), {"status": ["confirmed"]}).content.decode()
    assert pledge_b.title in body and pledge_a.title not in body
    response = client.get(reverse("pledges:list"), {"ordering": "-amount_eur"})
    assert [p.pk for p in response.context["pledges"]] == [pledge_b.pk, pledge_a.pk]
    response = client.get(reverse("pledges:list"), {"ordering": "amount_eur"})
    assert [p.pk for p in response.context["pledges"]] == [pledge_a.pk, pledge_b.pk]


def test_list_filters_by_meeting_chosen_by_name(client, steering, coalition, pledge_a, pledge_b):
    meeting = meeting_create(
        acting_user=None, coalition=coalition, title="Tallinn", starts_at=datetime(2024, 5, 31, 10, tzinfo=UTC)
    )
    Pledge.objects.filter(pk=pledge_b.pk).update(confirmed_at_meeting=meeting)
    login(client, steering)
    response = client.get(reverse("pledges:list"), {"confirmed_at_meeting": meeting.pk})
    html = response.content.decode()
    assert f'<option value="{meeting.pk}" selected>Tallinn (31 May 2024)</option>' in html
    assert [p.pk for p in response.context["pledges"]] == [pledge_b.pk]


def test_list_date_filters_use_the_date_picker_and_keep_their_value(client, steering, pledge_a):
    login(client, steering)
    with translation.override("uk"):
        body = client.get(reverse("pledges:list"), {"announced_after": "2024-01-01"}, HTTP_ACCEPT_LANGUAGE="uk")
    html = body.content.decode()
    assert 'type="date" name="announced_after" value="2024-01-01"' in html  # ISO, whatever the language
    assert 'type="date" name="confirmed_before"' in html


def _bulk_pledges(coalition, member, count, start=0):
    """Published pledges inserted directly (test data: EUR, so the EUR fields are the amounts)."""
    Pledge.objects.bulk_create(
        Pledge(
            coalition=coalition,
            member=member,
            title=f"Bulk {start + i}",
            amount=Decimal(1000 + i),
            currency="EUR",
            amount_eur=Decimal(1000 + i),
            exchange_rate=Decimal(1),
            exchange_rate_date=date(2024, 2, 2),
            exchange_rate_source="EUR",
            status="announced",
            announced_on=date(2024, 2, 2),
            published_at=timezone.now(),
        )
        for i in range(count)
    )


def test_list_pages_by_25(client, steering, coalition, member_a):
    _bulk_pledges(coalition, member_a, 60)
    login(client, steering)
    first = client.get(reverse("pledges:list"))
    assert len(first.context["pledges"]) == 25 and first.context["page_obj"].paginator.num_pages == 3
    last = client.get(reverse("pledges:list"), {"page": 3, "member": "EE"})
    assert len(last.context["pledges"]) == 10
    assert "member=EE" in last.content.decode()  # the pager keeps the filters


def _count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_is_pinned_and_does_not_grow(client, steering, coalition, member_a):
    login(client, steering)
    _bulk_pledges(coalition, member_a, 3)
    few = _count_queries(client, reverse("pledges:list"))
    _bulk_pledges(coalition, member_a, 57, start=3)
    many = _count_queries(client, reverse("pledges:list"))
    assert few == many == 7  # the meeting filter's choices included; 9 before seats (one query for the roles)


# --- Exports --------------------------------------------------------------------------------------


def test_csv_export_holds_every_filtered_pledge_across_pages(client, steering, coalition, member_a, pledge_b):
    _bulk_pledges(coalition, member_a, 40)
    response = login(client, steering).get(reverse("pledges:export", args=["csv"]), {"member": "EE"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    *rows, total = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    assert len(rows) == 40
    assert {row["member"] for row in rows} == {"EE"}
    assert {Decimal(row["amount_eur"]) for row in rows} == {Decimal(1000 + i) for i in range(40)}
    assert total["title"] == "Total of 40 pledges" and total["id"] == "" and total["amount"] == ""
    assert Decimal(total["amount_eur"]) == sum(Decimal(1000 + i) for i in range(40))


def test_xlsx_export_matches_the_filter(client, steering, pledge_a, pledge_b):
    from openpyxl import load_workbook

    response = login(client, steering).get(reverse("pledges:export", args=["xlsx"]), {"status": ["confirmed"]})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "coalition", "member")
    assert [row[0] for row in rows[1:-1]] == [pledge_b.pk]
    assert rows[-1][4] == "Total of 1 pledge" and rows[-1][10] == pledge_b.amount_eur


def test_export_hides_what_the_list_hides(client, steering, draft_a, other_pledge, pledge_a):
    response = login(client, steering).get(reverse("pledges:export", args=["csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert pledge_a.title in body and draft_a.title not in body and other_pledge.title not in body


# --- A pledge's page ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering", "partner"])
def test_coalition_roles_read_a_pledge(client, personas, persona, pledge_a):
    response = login(client, personas[persona]).get(detail(pledge_a))
    assert response.status_code == 200
    assert pledge_a.title in response.content.decode()


@pytest.mark.parametrize("persona", ["editor_b", "steering", "partner", "outsider"])
def test_a_draft_is_hidden_from_other_members_and_readers(client, personas, persona, draft_a):
    assert login(client, personas[persona]).get(detail(draft_a)).status_code == 404


def test_other_coalitions_pledge_is_hidden(client, secretariat, other_pledge):
    assert login(client, secretariat).get(detail(other_pledge)).status_code == 404


def test_buttons_follow_the_role(client, editor_a, editor_b, steering, pledge_a):
    own = login(client, editor_a).get(detail(pledge_a)).content.decode()
    assert f'href="/pledges/{pledge_a.pk}/edit/"' in own
    assert 'value="withdrawn"' in own and "Confirm this pledge" in own
    for reader in (editor_b, steering):
        page = login(Client(), reader).get(detail(pledge_a)).content.decode()
        assert "/edit/" not in page and 'value="withdrawn"' not in page and "Confirm this pledge" not in page


def test_detail_shows_who_changed_what_before_and_after(client, secretariat, editor_a, pledge_a):
    services.pledge_update(acting_user=editor_a, pledge=pledge_a, version=pledge_a.version, title="Servers, phase 2")
    body = login(client, secretariat).get(detail(pledge_a)).content.decode()
    assert "editor_a" in body
    assert "EE pledge" in body and "Servers, phase 2" in body  # before and after


def test_partner_sees_no_history(client, partner, pledge_a):
    body = login(client, partner).get(detail(pledge_a)).content.decode()
    assert 'id="history"' not in body


def _confirmed_with_records(pledge, user, count):
    services.pledge_confirm(acting_user=user, pledge=pledge, version=pledge.version, on_date=date(2024, 3, 1))
    for i in range(count):
        services.disbursement_record(
            acting_user=user, pledge=pledge, amount=Decimal("1000.00"), date=date(2024, 3, 2 + i), reference=f"R{i}"
        )
        pledge.refresh_from_db()
        services.pledge_update(acting_user=user, pledge=pledge, version=pledge.version, title=f"Title {i}")
        pledge.refresh_from_db()
    return pledge


def test_detail_query_count_is_pinned_and_does_not_grow(client, secretariat, coalition, member_a, member_b, rates):
    small = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100000.00"))
    large = factories.make_pledge(coalition=coalition, member=member_b, amount=Decimal("100000.00"))
    _confirmed_with_records(small, secretariat, 1)
    _confirmed_with_records(large, secretariat, 8)
    login(client, secretariat)
    assert _count_queries(client, detail(small)) == _count_queries(client, detail(large)) == 11  # 13 before seats


# --- Recording a pledge ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["steering", "partner", "outsider"])
def test_readers_cannot_record_pledges(client, personas, persona, coalition):
    login(client, personas[persona])
    assert client.get(reverse("pledges:create")).status_code == 403
    response = client.post(reverse("pledges:create"), {**NEW_PLEDGE, "coalition": coalition.pk})
    assert response.status_code == 403
    assert not Pledge.objects.exists()


def test_editor_records_a_pledge_of_their_own_member_only(client, editor_a, coalition, member_a, member_b, rates):
    login(client, editor_a)
    form = client.get(reverse("pledges:create")).context["form"]
    assert list(form.fields["member"].queryset) == [member_a] and form.fields["member"].disabled
    response = client.post(reverse("pledges:create"), {**NEW_PLEDGE, "coalition": coalition.pk, "member": member_b.pk})
    pledge = Pledge.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(pledge)
    assert pledge.member == member_a  # the posted member is ignored: the field is fixed
    assert pledge.history.get().history_user == editor_a


def test_coalition_choices_are_the_users_own(client, editor_a, coalition, other_coalition, member_a, rates):
    login(client, editor_a)
    response = client.post(reverse("pledges:create"), {**NEW_PLEDGE, "coalition": other_coalition.pk})
    assert response.status_code == 200
    assert "coalition" in response.context["form"].errors
    assert not Pledge.objects.exists()


def test_secretariat_records_for_any_member(client, secretariat, coalition, member_a, member_b, rates):
    login(client, secretariat)
    response = client.post(reverse("pledges:create"), {**NEW_PLEDGE, "coalition": coalition.pk, "member": member_b.pk})
    assert response.status_code == 302
    assert Pledge.objects.get().member == member_b


def test_service_errors_land_on_their_fields_and_keep_the_input(client, editor_a, coalition, member_a, rates):
    login(client, editor_a)
    data = {**NEW_PLEDGE, "coalition": coalition.pk, "currency": "UAH", "title": "Hryvnia pledge"}
    response = client.post(reverse("pledges:create"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "UAH" in form.errors["exchange_rate"][0]
    body = response.content.decode()
    assert 'value="Hryvnia pledge"' in body
    assert "Only for currencies the ECB does not publish" in body
    data |= {"exchange_rate": "41.50", "exchange_rate_source": "National Bank of Ukraine"}
    assert client.post(reverse("pledges:create"), data).status_code == 302
    assert Pledge.objects.get().amount_eur == (Decimal("250000") / Decimal("41.50")).quantize(Decimal("0.01"))


def test_a_missing_amount_is_a_form_error(client, editor_a, coalition, member_a, rates):
    response = login(client, editor_a).post(
        reverse("pledges:create"), {**NEW_PLEDGE, "coalition": coalition.pk, "amount": ""}
    )
    assert response.status_code == 200 and "amount" in response.context["form"].errors


# --- Changing a pledge ----------------------------------------------------------------------------


def _edit_data(pledge, **changes):
    data = {
        "title": pledge.title,
        "kind": pledge.kind,
        "channel": pledge.channel,
        "amount": str(pledge.amount),
        "currency": pledge.currency,
        "announced_on": pledge.announced_on.isoformat(),
        "version": pledge.version,
    }
    return data | changes


def test_editor_changes_their_pledge(client, editor_a, pledge_a):
    login(client, editor_a)
    form = client.get(edit(pledge_a)).context["form"]
    assert form.initial["exchange_rate"] is None  # the ECB rate is not presented as typed by the user
    response = client.post(edit(pledge_a), _edit_data(pledge_a, amount="2000000.00"))
    assert response.status_code == 302
    pledge_a.refresh_from_db()
    assert pledge_a.amount == Decimal("2000000.00") and pledge_a.version == 2


@pytest.mark.parametrize("persona", ["editor_b", "steering", "partner"])
def test_others_cannot_edit_editor_as_pledge(client, personas, persona, pledge_a):
    login(client, personas[persona])
    assert client.get(edit(pledge_a)).status_code == 403
    assert client.post(edit(pledge_a), _edit_data(pledge_a, title="Hijacked")).status_code == 403
    pledge_a.refresh_from_db()
    assert pledge_a.title == "EE pledge"


def test_stale_edit_is_refused_with_a_clear_message_and_the_input_kept(client, editor_a, secretariat, pledge_a):
    login(client, editor_a)
    stale = _edit_data(pledge_a, title="My careful new title")
    services.pledge_update(acting_user=secretariat, pledge=pledge_a, version=pledge_a.version, title="Theirs")
    response = client.post(edit(pledge_a), stale)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else saved this pledge" in body
    assert "changed by someone else" in body
    assert 'value="My careful new title"' in body
    pledge_a.refresh_from_db()
    assert pledge_a.title == "Theirs"


# --- Transitions, disbursements, allocations -------------------------------------------------------


def test_editor_confirms_at_a_meeting(client, editor_a, pledge_a, coalition):
    meeting = meeting_create(
        acting_user=None, coalition=coalition, title="Tallinn", starts_at=datetime(2024, 5, 31, 10, tzinfo=UTC)
    )
    login(client, editor_a)
    response = client.post(
        transition(pledge_a),
        {"to": "confirmed", "version": pledge_a.version, "meeting": meeting.pk, "on_date": "2024-05-31"},
    )
    assert response.status_code == 302
    pledge_a.refresh_from_db()
    assert pledge_a.status == "confirmed" and pledge_a.confirmed_at_meeting == meeting
    assert pledge_a.confirmed_on == date(2024, 5, 31) and pledge_a.status_changed_by == editor_a


def test_withdraw_and_a_refused_transition_says_why(client, editor_a, pledge_a):
    login(client, editor_a)
    data = {"to": "withdrawn", "version": pledge_a.version}
    page = client.post(transition(pledge_a), data)
    assert page.status_code == 200 and "Withdraw this pledge?" in page.content.decode()
    pledge_a.refresh_from_db()
    assert pledge_a.status == "announced", "nothing is withdrawn before it is confirmed"
    assert client.post(transition(pledge_a), {**data, "confirm": "yes"}).status_code == 302
    pledge_a.refresh_from_db()
    assert pledge_a.status == "withdrawn"
    response = client.post(transition(pledge_a), {"to": "confirmed", "version": pledge_a.version}, follow=True)
    assert "cannot become confirmed" in response.content.decode()


@pytest.mark.parametrize("persona", ["editor_b", "steering"])
def test_others_cannot_move_a_pledge(client, personas, persona, pledge_a):
    response = login(client, personas[persona]).post(transition(pledge_a), {"to": "withdrawn"})
    assert response.status_code == 403
    pledge_a.refresh_from_db()
    assert pledge_a.status == "announced"


def test_editor_records_a_disbursement_and_an_excess_is_refused_on_the_form(client, editor_b, pledge_b):
    login(client, editor_b)
    url = reverse("pledges:disbursement_create", args=[pledge_b.pk])
    assert client.post(url, {"amount": "1000000.00", "date": "2024-03-01"}).status_code == 302
    response = client.post(url, {"amount": "9999999.00", "date": "2024-03-02"})
    assert response.status_code == 400
    assert response.context["disbursement_form"].errors
    assert Disbursement.objects.count() == 1


def test_other_member_cannot_disburse(client, editor_a, pledge_b):
    url = reverse("pledges:disbursement_create", args=[pledge_b.pk])
    assert login(client, editor_a).post(url, {"amount": "10.00", "date": "2024-03-01"}).status_code == 403
    assert not Disbursement.objects.exists()


def test_secretariat_allocates_and_editors_may_not(client, secretariat, editor_b, pledge_b, coalition):
    priority = services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("2000000")
    )
    url = reverse("pledges:allocation_create", args=[pledge_b.pk])
    data = {"priority": priority.pk, "amount_eur": "500000.00"}
    assert login(client, editor_b).post(url, data).status_code == 403
    assert login(client, secretariat).post(url, data).status_code == 302
    assert Allocation.objects.get().amount_eur == Decimal("500000.00")


def test_editor_deletes_a_mistaken_pledge(client, editor_a, pledge_a):
    response = login(client, editor_a).post(
        reverse("pledges:delete", args=[pledge_a.pk]), {"version": pledge_a.version, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert not Pledge.objects.filter(pk=pledge_a.pk).exists()


# --- CSRF -----------------------------------------------------------------------------------------


def test_posts_need_the_csrf_token(editor_a, pledge_a, coalition, rates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_a)
    withdraw = {"to": "withdrawn", "version": pledge_a.version, "confirm": "yes"}
    assert client.post(transition(pledge_a), withdraw).status_code == 403
    assert client.post(reverse("pledges:create"), {**NEW_PLEDGE, "coalition": coalition.pk}).status_code == 403
    pledge_a.refresh_from_db()
    assert pledge_a.status == "announced"
    page = client.get(detail(pledge_a))
    token = page.context["csrf_token"]
    data = {"to": "withdrawn", "version": pledge_a.version, "confirm": "yes", "csrfmiddlewaretoken": str(token)}
    assert client.post(transition(pledge_a), data).status_code == 302
    pledge_a.refresh_from_db()
    assert pledge_a.status == "withdrawn"
