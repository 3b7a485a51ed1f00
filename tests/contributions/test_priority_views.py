"""The priority purchase pages: every page × role, the secretariat's forms, exports, query counts."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from contributions import services
from contributions.models import PriorityPurchase
from meetings import services as meeting_services
from tests import factories

pytestmark = pytest.mark.django_db


def make_priority(coalition, title="Secure servers", cost="2000000.00", **extra):
    return services.priority_create(
        acting_user=None, coalition=coalition, title=title, estimated_cost_eur=Decimal(cost), **extra
    )


@pytest.fixture
def priority(coalition):
    return make_priority(coalition, category="infrastructure")


@pytest.fixture
def allocated_priority(priority, pledge_b):
    services.allocation_set(acting_user=None, pledge=pledge_b, priority=priority, amount_eur=Decimal("500000.00"))
    return priority


@pytest.fixture
def other_priority(other_coalition):
    return make_priority(other_coalition, title="Elsewhere")


def login(client, user):
    client.force_login(user)
    return client


# --- Who may see what -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, priority):
    for url in (reverse("priorities:list"), reverse("priorities:detail", args=[priority.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_user_without_a_role_is_refused_the_list(client, outsider, priority):
    assert login(client, outsider).get(reverse("priorities:list")).status_code == 403


def test_user_without_a_role_does_not_learn_a_priority_exists(client, outsider, priority):
    assert login(client, outsider).get(reverse("priorities:detail", args=[priority.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "steering", "partner"])
def test_coalition_roles_see_the_ranked_list_with_coverage(client, personas, allocated_priority, persona):
    response = login(client, personas[persona]).get(reverse("priorities:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secure servers" in html
    # 500,000 of 2,000,000 allocated: the percentage is written out, not only drawn.
    assert ">25%<" in html
    assert "1,500,000.00" in html  # the unfunded gap


def test_priorities_of_another_coalition_are_not_listed(client, steering, priority, other_priority):
    html = login(client, steering).get(reverse("priorities:list")).content.decode()
    assert "Secure servers" in html
    assert "Elsewhere" not in html


def test_priority_of_another_coalition_is_not_found(client, steering, other_priority):
    assert login(client, steering).get(reverse("priorities:detail", args=[other_priority.pk])).status_code == 404


def test_list_filters_by_status(client, steering, coalition, priority):
    make_priority(coalition, title="Radios", status="approved")
    html = login(client, steering).get(reverse("priorities:list"), {"status": "approved"}).content.decode()
    assert "Radios" in html
    assert "Secure servers" not in html


def test_detail_shows_allocations_and_history_to_steering(client, steering, allocated_priority, pledge_b):
    response = login(client, steering).get(reverse("priorities:detail", args=[allocated_priority.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert pledge_b.title in html
    assert "500,000.00" in html
    assert 'id="history"' in html


def test_partner_sees_the_priority_but_not_its_history(client, partner, allocated_priority):
    response = login(client, partner).get(reverse("priorities:detail", args=[allocated_priority.pk]))
    assert response.status_code == 200
    assert 'id="history"' not in response.content.decode()


@pytest.mark.parametrize("persona", ["editor_a", "steering", "partner"])
def test_only_the_secretariat_sees_the_forms(client, personas, priority, persona):
    user = personas[persona]
    list_html = login(client, user).get(reverse("priorities:list")).content.decode()
    detail_html = client.get(reverse("priorities:detail", args=[priority.pk])).content.decode()
    assert reverse("priorities:create") not in list_html
    assert reverse("priorities:edit", args=[priority.pk]) not in detail_html
    assert reverse("priorities:transition", args=[priority.pk]) not in detail_html
    assert client.get(reverse("priorities:create")).status_code == 403
    assert client.get(reverse("priorities:edit", args=[priority.pk])).status_code == 403
    response = client.post(
        reverse("priorities:transition", args=[priority.pk]), {"to_status": "approved", "version": priority.version}
    )
    assert response.status_code == 403
    assert client.post(reverse("priorities:move", args=[priority.pk]), {"direction": "down"}).status_code == 403
    priority.refresh_from_db()
    assert priority.status == "proposed"


def test_secretariat_of_another_coalition_cannot_edit(client, other_coalition, priority):
    stranger = factories.persona("sec_other", "secretariat", coalitions=[other_coalition])
    assert login(client, stranger).get(reverse("priorities:edit", args=[priority.pk])).status_code == 404


# --- The secretariat's forms ----------------------------------------------------------------------


def test_secretariat_adds_a_priority_at_the_end(client, secretariat, coalition, priority):
    response = login(client, secretariat).post(
        reverse("priorities:create"),
        {
            "coalition": coalition.pk,
            "title": "Satellite terminals",
            "estimated_cost_eur": "750000.00",
            "status": "proposed",
            "category": "communications",
        },
    )
    created = PriorityPurchase.objects.get(title="Satellite terminals")
    assert response.status_code == 302
    assert response["Location"] == reverse("priorities:detail", args=[created.pk])
    assert created.rank == 2
    assert created.history.first().history_user == secretariat


def test_create_form_reports_a_bad_cost_on_its_field(client, secretariat, coalition):
    response = login(client, secretariat).post(
        reverse("priorities:create"),
        {"coalition": coalition.pk, "title": "Free lunch", "estimated_cost_eur": "0", "status": "proposed"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["estimated_cost_eur"]
    assert not PriorityPurchase.objects.filter(title="Free lunch").exists()


def test_secretariat_edits_a_priority_and_the_history_shows_before_and_after(client, secretariat, priority):
    login(client, secretariat)
    form = client.get(reverse("priorities:edit", args=[priority.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(estimated_cost_eur="2500000.00", approved_at_meeting="", target_date="")
    response = client.post(reverse("priorities:edit", args=[priority.pk]), data)
    assert response.status_code == 302
    priority.refresh_from_db()
    assert priority.estimated_cost_eur == Decimal("2500000.00")
    html = client.get(reverse("priorities:detail", args=[priority.pk])).content.decode()
    history = html[html.index('id="history"') :]
    assert "2,000,000.00" in history and "2,500,000.00" in history
    assert "secretariat" in history


def test_stale_edit_is_refused_with_a_clear_message_and_the_input_kept(client, secretariat, priority):
    login(client, secretariat)
    stale_version = priority.version
    services.priority_update(acting_user=None, priority=priority, title="Changed meanwhile")
    response = client.post(
        reverse("priorities:edit", args=[priority.pk]),
        {"title": "My new title", "estimated_cost_eur": "999.00", "version": stale_version},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "changed by someone else" in html
    assert 'value="My new title"' in html
    priority.refresh_from_db()
    assert priority.title == "Changed meanwhile"


def test_secretariat_moves_a_priority_through_procurement(client, secretariat, coalition, priority):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering group", starts_at=datetime(2024, 2, 2, 9, tzinfo=UTC)
    )
    login(client, secretariat)
    for to_status in ("approved", "in_procurement", "contracted", "delivered"):
        priority.refresh_from_db()
        data = {"to_status": to_status, "version": priority.version}
        if to_status == "approved":
            data["meeting"] = meeting.pk
        response = client.post(reverse("priorities:transition", args=[priority.pk]), data)
        assert response.status_code == 302
    priority.refresh_from_db()
    assert priority.status == "delivered"
    assert priority.approved_at_meeting == meeting


def test_refused_transition_is_reported_not_applied(client, secretariat, priority):
    response = login(client, secretariat).post(
        reverse("priorities:transition", args=[priority.pk]),
        {"to_status": "delivered", "version": priority.version},
        follow=True,
    )
    assert "cannot become" in response.content.decode()
    priority.refresh_from_db()
    assert priority.status == "proposed"


def test_secretariat_reorders_with_move_buttons(client, secretariat, coalition, priority):
    second = make_priority(coalition, title="Radios")
    third = make_priority(coalition, title="Laptops")
    login(client, secretariat)
    html = client.get(reverse("priorities:list")).content.decode()
    assert "Move “Laptops” up" in html and "Move “Secure servers” up" not in html
    response = client.post(reverse("priorities:move", args=[third.pk]), {"direction": "up"})
    assert response.status_code == 302
    ranks = dict(PriorityPurchase.objects.values_list("title", "rank"))
    assert ranks == {"Secure servers": 1, "Laptops": 2, "Radios": 3}
    client.post(reverse("priorities:move", args=[priority.pk]), {"direction": "down"})
    second.refresh_from_db()
    assert dict(PriorityPurchase.objects.values_list("title", "rank"))["Secure servers"] == 2
    assert second.rank == 3


# --- Exports --------------------------------------------------------------------------------------


def test_csv_export_has_what_the_list_shows(client, steering, allocated_priority, coalition):
    make_priority(coalition, title="Radios", status="approved")
    response = login(client, steering).get(reverse("priorities:export", args=["csv"]), {"status": "proposed"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Coalition", "Rank", "Title"]
    assert len(rows) == 2
    assert rows[1][2] == "Secure servers"
    assert rows[1][6] == "500000.00" and rows[1][7] == "25.00" and rows[1][8] == "1500000.00"


def test_xlsx_export_keeps_numbers_as_numbers(client, steering, allocated_priority):
    response = login(client, steering).get(reverse("priorities:export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == "Secure servers"
    assert float(rows[1][5]) == 2000000.0


def test_export_refused_to_a_user_without_a_role(client, outsider, priority):
    assert login(client, outsider).get(reverse("priorities:export", args=["csv"])).status_code == 403


# --- Query counts ---------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _fill(coalition, member_b, n):
    """n priorities, each with an allocation of a separate confirmed pledge."""
    for i in range(n):
        p = make_priority(coalition, title=f"Item {i}", cost="1000000.00")
        pledge = factories.make_pledge(coalition=coalition, member=member_b, title=f"P{i}", status="confirmed")
        services.allocation_set(acting_user=None, pledge=pledge, priority=p, amount_eur=Decimal("1000.00"))
        services.priority_update(acting_user=None, priority=p, category=f"c{i}")


#: Pinned: session, user, roles, profile, coalitions, then the page's own queries.
LIST_QUERIES = 6  # 8 before seats: one query for the roles instead of three
DETAIL_QUERIES = 10  # 12 before seats


def test_list_query_count_is_pinned_and_independent_of_rows(client, secretariat, coalition, member_b, rates):
    _fill(coalition, member_b, 1)
    login(client, secretariat)
    one = _count(client, reverse("priorities:list"))
    _fill(coalition, member_b, 19)
    twenty = _count(client, reverse("priorities:list"))
    assert one == twenty == LIST_QUERIES


def test_detail_query_count_is_pinned_and_independent_of_rows(client, secretariat, coalition, member_b, rates):
    p = make_priority(coalition, title="Target", cost="90000000.00")

    def add(n, offset):
        for i in range(n):
            pledge = factories.make_pledge(
                coalition=coalition, member=member_b, title=f"D{offset + i}", status="confirmed"
            )
            services.allocation_set(acting_user=None, pledge=pledge, priority=p, amount_eur=Decimal("1000.00"))
            services.priority_update(acting_user=None, priority=p, category=f"c{offset + i}")

    add(1, 0)
    login(client, secretariat)
    url = reverse("priorities:detail", args=[p.pk])
    one = _count(client, url)
    add(19, 1)
    twenty = _count(client, url)
    assert one == twenty == DETAIL_QUERIES


def test_allocation_history_names_the_pledge(client, secretariat, allocated_priority, pledge_b):
    html = login(client, secretariat).get(reverse("priorities:detail", args=[allocated_priority.pk])).content.decode()
    assert f"allocation of pledge #{pledge_b.pk}" in html


def test_target_date_is_localised(client, steering, coalition):
    p = make_priority(coalition, title="Dated", target_date=date(2024, 12, 31))
    html = login(client, steering).get(reverse("priorities:detail", args=[p.pk])).content.decode()
    assert "31 December 2024" in html
    uk = client.get(reverse("priorities:detail", args=[p.pk]), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "31 грудня 2024" in uk
