"""The API's pledges, disbursements, priority purchases, allocations and exchange rates: every endpoint
× role through the generic mixins, then the rules a partner's script runs into: unknown codes, wrong
types, negative amounts, missing ECB rates, disbursements over the pledge, stale versions."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contributions import services
from contributions.models import Allocation, Disbursement, ExchangeRate, Pledge, PriorityPurchase
from tests import factories
from tests.api_mixins import (
    PLEDGE_CONTRACT,
    APITestBase,
    CreateTests,
    DeleteTests,
    ResourceTests,
    UpdateTests,
    VersionTests,
    csv_rows,
    pytest_generate_tests,  # noqa: F401 - parametrizes reader / writer / forbidden
)

pytestmark = pytest.mark.django_db

PLEDGES = reverse("api:pledge-list")


def pledge_url(pledge, action=None):
    if action:
        return reverse(f"api:pledge-{action}", args=[pledge.pk])
    return reverse("api:pledge-detail", args=[pledge.pk])


@pytest.fixture
def draft_a(coalition, member_a, rates):
    return factories.make_pledge(coalition=coalition, member=member_a, status="draft", title="Draft of Estonia")


@pytest.fixture
def confirmed_a(coalition, member_a, rates):
    return factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("10000.00"), currency="EUR", status="confirmed"
    )


@pytest.fixture
def priority(coalition):
    return services.priority_create(
        acting_user=None, coalition=coalition, title="Data centre", estimated_cost_eur=Decimal("4000000.00")
    )


# --- Pledges: every role -----------------------------------------------------------------------------


class TestPledges(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "pledge"
    model = Pledge
    csv_columns = ("id", "coalition_slug", "coalition_name", "member_code", "member_name", "amount", "amount_eur")

    @pytest.fixture
    def record(self, pledge_a):
        return pledge_a

    @pytest.fixture
    def create_body(self, coalition, member_a, rates):
        return {
            "coalition": "test-coalition",
            "member": "EE",
            "title": "Servers for the data centre",
            "amount": "250000.00",
            "currency": "USD",
            "announced_on": "2024-02-02",
            "status": "announced",
        }

    @pytest.fixture
    def update_body(self):
        return {"title": "Servers and storage"}


class TestPledgeVisibility(APITestBase):
    def test_partner_and_other_editor_do_not_see_drafts(self, api, pledge_a, draft_a):
        for persona in ("partner", "steering", "editor_b"):
            client = api(persona)
            ids = [row["id"] for row in client.get(PLEDGES).json()["results"]]
            assert pledge_a.pk in ids and draft_a.pk not in ids, persona
            assert client.get(pledge_url(draft_a)).status_code == 404, persona

    def test_own_editor_and_secretariat_see_the_draft(self, api, draft_a):
        for persona in ("editor_a", "secretariat"):
            assert api(persona).get(pledge_url(draft_a)).json()["status"] == "draft"

    def test_other_editor_gets_404_for_a_hidden_draft_and_403_for_a_published_pledge(self, api, pledge_a, draft_a):
        client = api("editor_b")
        hidden = client.patch(pledge_url(draft_a), {"title": "x", "version": 1}, format="json")
        assert hidden.status_code == 404
        published = client.patch(pledge_url(pledge_a), {"title": "x", "version": 1}, format="json")
        assert published.status_code == 403
        assert "own member" in published.json()["detail"]

    def test_editor_cannot_record_a_pledge_for_another_member(self, api, member_b, rates):
        body = {
            "coalition": "test-coalition",
            "member": "LU",
            "title": "Not ours",
            "amount": "1.00",
            "currency": "EUR",
            "announced_on": "2024-02-02",
        }
        response = api("editor_a").post(PLEDGES, body, format="json")
        assert response.status_code == 403
        assert not Pledge.objects.filter(title="Not ours").exists()

    def test_pledges_of_another_coalition_are_not_listed(self, api, pledge_a, other_coalition, rates):
        member = factories.MemberFactory(code="PL", name="Poland")
        factories.MembershipFactory(member=member, coalition=other_coalition)
        elsewhere = factories.make_pledge(coalition=other_coalition, member=member)
        client = api("secretariat")
        assert elsewhere.pk not in [row["id"] for row in client.get(PLEDGES).json()["results"]]
        assert client.get(pledge_url(elsewhere)).status_code == 404


# --- Pledges: what comes back, and what is refused ------------------------------------------------------


def body(**changes):
    base = {
        "coalition": "test-coalition",
        "member": "EE",
        "title": "Laptops",
        "amount": "1250000.00",
        "currency": "EUR",
        "announced_on": "2024-02-02",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


class TestPledgeInput(APITestBase):
    @pytest.fixture(autouse=True)
    def _setting(self, member_a, member_b, rates):
        pass

    def post(self, api, data, persona="secretariat", **kwargs):
        return api(persona).post(PLEDGES, data, format="json", **kwargs)

    def test_created_pledge_has_the_contract_fields(self, api):
        response = self.post(api, body(currency="USD", amount="1088300.00", status="announced"))
        assert response.status_code == 201, response.content
        data = response.json()
        assert list(data) == PLEDGE_CONTRACT
        assert data["coalition"] == "test-coalition" and data["member"] == "EE"
        assert data["amount"] == "1088300.00"
        assert data["amount_eur"] == "1000000.00"  # 1,088,300 USD at the ECB's 1.0883 of 2 Feb 2024
        assert data["exchange_rate"] == "1.08830000"
        assert data["exchange_rate_date"] == "2024-02-02"
        assert data["exchange_rate_source"] == "ECB"
        assert data["status"] == "announced" and data["version"] == 1
        assert data["created_at"].endswith("Z")

    def test_a_json_number_is_read_as_an_exact_decimal(self, api):
        raw = b'{"coalition": "test-coalition", "member": "EE", "title": "T", "amount": 1250000.10, "currency": "EUR", "announced_on": "2024-02-02"}'  # noqa: E501
        response = api("secretariat").post(PLEDGES, raw, content_type="application/json")
        assert response.status_code == 201, response.content
        assert Pledge.objects.get(pk=response.json()["id"]).amount == Decimal("1250000.10")

    def test_read_only_fields_are_ignored(self, api):
        response = self.post(api, body(amount_eur="1.00", version=99, disbursed_amount="5.00"))
        assert response.status_code == 201
        assert response.json()["amount_eur"] == "1250000.00"
        assert response.json()["version"] == 1

    def test_unknown_member_code(self, api):
        response = self.post(api, body(member="XX"))
        assert response.status_code == 400
        assert response.json() == {"member": ["Unknown member code XX."]}

    def test_unknown_coalition_slug(self, api):
        response = self.post(api, body(coalition="nowhere"))
        assert response.status_code == 400
        assert response.json()["coalition"] == ["Unknown coalition slug nowhere."]

    def test_member_outside_the_coalition(self, api, other_coalition):
        factories.MembershipFactory(member=factories.MemberFactory(code="PL", name="Poland"), coalition=other_coalition)
        # The secretariat of the test coalition does not even see Poland: it is an unknown code to them.
        assert self.post(api, body(member="PL")).json() == {"member": ["Unknown member code PL."]}

    def test_malformed_json(self, api):
        response = api("secretariat").post(PLEDGES, b'{"title": "Laptops",', content_type="application/json")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Malformed JSON")

    def test_nan_is_not_an_amount(self, api):
        raw = b'{"coalition": "test-coalition", "member": "EE", "title": "T", "amount": NaN, "currency": "EUR", "announced_on": "2024-02-02"}'  # noqa: E501
        response = api("secretariat").post(PLEDGES, raw, content_type="application/json")
        assert response.status_code == 400
        assert "NaN" in response.json()["detail"]

    def test_a_body_that_is_not_json(self, api):
        response = api("secretariat").post(PLEDGES, "title=x", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("amount", "lots"),
            ("amount", {"value": 1}),
            ("amount", "12.345"),
            ("announced_on", 20240202),
            ("announced_on", "2 February"),
            ("kind", "cash"),
            ("member", 5),
            ("status", "maybe"),
            ("confirmed_at_meeting", "first"),
        ],
    )
    def test_wrong_types_name_the_field(self, api, field, value):
        response = self.post(api, body(**{field: value}))
        assert response.status_code == 400, response.content
        assert list(response.json()) == [field]
        assert response.json()[field][0]

    @pytest.mark.parametrize("amount", ["-100.00", "0", "0.00"])
    def test_amounts_must_be_positive(self, api, amount):
        response = self.post(api, body(amount=amount))
        assert response.status_code == 400
        assert response.json() == {"amount": ["The amount must be greater than zero."]}
        assert not Pledge.objects.exists()

    def test_missing_fields_are_listed(self, api):
        response = self.post(api, {"coalition": "test-coalition"})
        assert response.status_code == 400
        assert {"member", "title", "amount", "currency", "announced_on"} <= set(response.json())

    def test_missing_ecb_rate_names_the_currency_and_date(self, api):
        response = self.post(api, body(currency="UAH", amount="1000000.00"))
        assert response.status_code == 400
        message = response.json()["exchange_rate"][0]
        assert "UAH" in message and "2024-02-02" in message

    def test_explicit_rate_where_the_ecb_has_none(self, api):
        response = self.post(
            api,
            body(currency="UAH", amount="4130000.00", exchange_rate="41.30", exchange_rate_source="NBU 2024-02-02"),
        )
        assert response.status_code == 201, response.content
        assert response.json()["amount_eur"] == "100000.00"
        assert response.json()["exchange_rate_source"] == "NBU 2024-02-02"

    def test_explicit_rate_without_its_source(self, api):
        response = self.post(api, body(currency="UAH", exchange_rate="41.30"))
        assert response.status_code == 400
        assert "UAH" in response.json()["exchange_rate_source"][0]

    def test_not_an_iso_currency(self, api):
        response = self.post(api, body(currency="EURO"))
        assert response.status_code == 400
        assert "EURO" in response.json()["currency"][0]

    def test_a_new_pledge_cannot_start_fulfilled(self, api):
        response = self.post(api, body(status="fulfilled"))
        assert response.status_code == 400
        assert "fulfilled" in response.json()["status"][0]

    def test_duplicate_external_reference(self, api):
        assert self.post(api, body(external_ref="MoD-1")).status_code == 201
        response = self.post(api, body(external_ref="MoD-1"))
        assert response.status_code == 400
        assert "external reference" in str(response.json())


class TestPledgeChanges(APITestBase):
    def test_status_changes_are_refused_on_update_with_a_pointer_to_the_actions(self, api, pledge_a):
        response = api("secretariat").patch(pledge_url(pledge_a), {"status": "confirmed", "version": 1}, format="json")
        assert response.status_code == 400
        assert f"/api/v1/pledges/{pledge_a.pk}/announce/" in response.json()["status"][0]

    def test_what_was_read_can_be_put_back(self, api, pledge_a):
        client = api("secretariat")
        data = client.get(pledge_url(pledge_a)).json()
        data["title"] = "Renamed"
        response = client.put(pledge_url(pledge_a), data, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["title"] == "Renamed"
        assert response.json()["amount_eur"] == data["amount_eur"]

    def test_changing_the_member_is_refused(self, api, pledge_a, member_b):
        response = api("secretariat").patch(pledge_url(pledge_a), {"member": "LU", "version": 1}, format="json")
        assert response.status_code == 400
        assert "member" in response.json()

    def test_new_amount_is_converted_again(self, api, pledge_a):
        response = api("editor_a").patch(pledge_url(pledge_a), {"amount": "2176600.00", "version": 1}, format="json")
        assert response.status_code == 200
        assert response.json()["amount_eur"] == "2000000.00"

    def test_announce_confirm_withdraw(self, api, draft_a):
        client = api("editor_a")
        announced = client.post(pledge_url(draft_a, "announce"), {"version": 1}, format="json")
        assert announced.status_code == 200, announced.content
        assert announced.json()["status"] == "announced"
        confirmed = client.post(
            pledge_url(draft_a, "confirm"), {"version": 2, "confirmed_on": "2024-02-10"}, format="json"
        )
        assert confirmed.json()["status"] == "confirmed"
        assert confirmed.json()["confirmed_on"] == "2024-02-10"
        withdrawn = client.post(pledge_url(draft_a, "withdraw"), {"version": 3}, format="json")
        assert withdrawn.json()["status"] == "withdrawn"
        row = draft_a.history.order_by("-history_id").first()
        assert row.history_user.username == "editor_a"

    def test_transition_needs_the_version(self, api, draft_a):
        client = api("editor_a")
        missing = client.post(pledge_url(draft_a, "announce"), {}, format="json")
        assert missing.status_code == 400
        assert "required" in missing.json()["version"][0]
        stale = client.post(pledge_url(draft_a, "announce"), {"version": 7}, format="json")
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 1

    def test_impossible_transition(self, api, pledge_a):
        response = api("secretariat").post(pledge_url(pledge_a, "announce"), {"version": 1}, format="json")
        assert response.status_code == 400
        assert "announced" in response.json()["status"][0]

    def test_partner_cannot_confirm(self, api, pledge_a):
        assert api("partner").post(pledge_url(pledge_a, "confirm"), {"version": 1}, format="json").status_code == 403

    def test_a_pledge_with_disbursements_cannot_be_deleted(self, api, confirmed_a):
        services.disbursement_record(
            acting_user=None, pledge=confirmed_a, amount=Decimal("10.00"), date=date(2024, 3, 1)
        )
        response = api("secretariat").delete(pledge_url(confirmed_a))
        assert response.status_code == 400
        assert "withdraw it" in response.json()["non_field_errors"][0]

    def test_delete_with_a_stale_version(self, api, pledge_a):
        response = api("secretariat").delete(pledge_url(pledge_a) + "?version=5")
        assert response.status_code == 409
        assert Pledge.objects.filter(pk=pledge_a.pk).exists()


class TestPledgeFilters(APITestBase):
    @pytest.fixture
    def pledges(self, coalition, member_a, member_b, rates):
        return [
            factories.make_pledge(
                coalition=coalition, member=member_a, currency="USD", announced_on=date(2024, 2, 2), title="Servers"
            ),
            factories.make_pledge(
                coalition=coalition, member=member_b, currency="EUR", announced_on=date(2024, 5, 31), title="Training"
            ),
            factories.make_pledge(
                coalition=coalition,
                member=member_b,
                currency="GBP",
                announced_on=date(2024, 3, 28),
                status="confirmed",
                kind="in_kind",
                title="Radios",
            ),
        ]

    def titles(self, api, **params):
        response = api("partner").get(PLEDGES, params)
        assert response.status_code == 200, response.content
        return sorted(row["title"] for row in response.json()["results"])

    def test_filters(self, api, pledges):
        assert self.titles(api, member="EE") == ["Servers"]
        assert self.titles(api, member="EE,LU") == ["Radios", "Servers", "Training"]
        assert self.titles(api, status="confirmed") == ["Radios"]
        assert self.titles(api, kind="in_kind") == ["Radios"]
        assert self.titles(api, currency="USD,GBP") == ["Radios", "Servers"]
        assert self.titles(api, announced_after="2024-03-01", announced_before="2024-04-30") == ["Radios"]
        assert self.titles(api, q="radio") == ["Radios"]
        assert self.titles(api, coalition="test-coalition") == ["Radios", "Servers", "Training"]
        assert self.titles(api, coalition="other") == []

    def test_updated_since(self, api, pledges):
        Pledge.objects.filter(pk=pledges[0].pk).update(updated_at="2030-01-01T00:00:00Z")
        assert self.titles(api, updated_since="2029-12-31T00:00:00Z") == ["Servers"]

    def test_ordering(self, api, pledges):
        response = api("partner").get(PLEDGES, {"ordering": "announced_on"})
        assert [row["title"] for row in response.json()["results"]] == ["Servers", "Radios", "Training"]
        response = api("partner").get(PLEDGES, {"ordering": "-amount_eur,id"})
        amounts = [Decimal(row["amount_eur"]) for row in response.json()["results"]]
        assert amounts == sorted(amounts, reverse=True)

    def test_invalid_filter_values_are_400(self, api, pledges):
        for params in ({"status": "maybe"}, {"announced_after": "yesterday"}, {"ordering": "password"}):
            response = api("partner").get(PLEDGES, params)
            assert response.status_code == 400, params
            assert list(response.json()) == [next(iter(params))]

    def test_paging_is_capped(self, api, pledges):
        response = api("partner").get(PLEDGES, {"page_size": 2, "count": "true"})
        data = response.json()
        assert data["count"] == 3 and len(data["results"]) == 2 and data["next"] and data["previous"] is None
        # beyond the cap is refused as the schema says (maximum 200), not quietly cut to 200
        too_many = api("partner").get(PLEDGES, {"page_size": 100000})
        assert too_many.status_code == 400 and "at most 200" in too_many.json()["page_size"][0]
        assert api("partner").get(PLEDGES, {"page": 9}).status_code == 404

    def test_last_modified_informs_but_only_the_etag_decides_a_304(self, api, pledges):
        client = api("partner")
        response = client.get(pledge_url(pledges[0]))
        assert response["Last-Modified"]
        assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
        listed = client.get(PLEDGES)
        services.pledge_delete(acting_user=None, pledge=pledges[2])
        # A deletion does not move the newest updated_at: If-Modified-Since alone must not get a 304.
        again = client.get(PLEDGES, HTTP_IF_MODIFIED_SINCE=listed["Last-Modified"])
        assert again.status_code == 200
        assert len(again.json()["results"]) == 2
        assert again["ETag"] != listed["ETag"]

    def test_csv_columns_and_values(self, api, pledges):
        response = api("partner").get(PLEDGES, {"format": "csv", "ordering": "announced_on"})
        rows = csv_rows(response)
        assert [row["member_name"] for row in rows] == ["Estonia", "Luxembourg", "Luxembourg"]
        assert rows[0]["coalition_name"] == "Test Coalition"
        assert rows[0]["member_code"] == "EE"
        assert "coalition" not in rows[0] and "member" not in rows[0]

    def test_csv_is_only_for_lists(self, api, pledges):
        assert api("partner").get(pledge_url(pledges[0]), {"format": "csv"}).status_code == 404


# --- Disbursements ------------------------------------------------------------------------------------


class TestDisbursements(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "disbursement"
    model = Disbursement
    csv_columns = ("pledge_id", "pledge_title", "member_code", "member_name", "coalition_slug", "amount")

    @pytest.fixture
    def record(self, confirmed_a):
        return services.disbursement_record(
            acting_user=None, pledge=confirmed_a, amount=Decimal("1000.00"), date=date(2024, 3, 1), reference="INV-1"
        )

    @pytest.fixture
    def create_body(self, confirmed_a):
        return {"pledge": confirmed_a.pk, "amount": "2500.00", "date": "2024-03-15", "reference": "INV-2"}

    @pytest.fixture
    def update_body(self):
        return {"reference": "INV-1 corrected"}


class TestDisbursementRules(APITestBase):
    def test_over_the_pledge_is_refused(self, api, confirmed_a):
        url = reverse("api:disbursement-list")
        body = {"pledge": confirmed_a.pk, "amount": "10000.01", "date": "2024-03-15"}
        response = api("editor_a").post(url, body, format="json")
        assert response.status_code == 400
        assert "more than the pledged" in response.json()["amount"][0]
        assert not Disbursement.objects.exists()

    def test_negative_disbursement(self, api, confirmed_a):
        body = {"pledge": confirmed_a.pk, "amount": "-5.00", "date": "2024-03-15"}
        response = api("editor_a").post(reverse("api:disbursement-list"), body, format="json")
        assert response.status_code == 400
        assert response.json() == {"amount": ["The amount must be greater than zero."]}

    def test_paying_the_whole_pledge_fulfils_it(self, api, confirmed_a):
        body = {"pledge": confirmed_a.pk, "amount": "10000.00", "date": "2024-03-15"}
        assert api("editor_a").post(reverse("api:disbursement-list"), body, format="json").status_code == 201
        pledge = api("partner").get(pledge_url(confirmed_a)).json()
        assert pledge["status"] == "fulfilled" and pledge["disbursed_amount"] == "10000.00"

    def test_an_announced_pledge_takes_no_disbursement(self, api, pledge_a):
        body = {"pledge": pledge_a.pk, "amount": "5.00", "date": "2024-03-15"}
        response = api("secretariat").post(reverse("api:disbursement-list"), body, format="json")
        assert response.status_code == 400
        assert "confirm it first" in response.json()["pledge"][0]

    def test_unknown_pledge(self, api, confirmed_a):
        body = {"pledge": 999999, "amount": "5.00", "date": "2024-03-15"}
        response = api("secretariat").post(reverse("api:disbursement-list"), body, format="json")
        assert response.status_code == 400
        assert "999999" in response.json()["pledge"][0]

    def test_moving_a_disbursement_to_another_pledge_is_refused(self, api, confirmed_a, pledge_b):
        disbursement = services.disbursement_record(
            acting_user=None, pledge=confirmed_a, amount=Decimal("1.00"), date=date(2024, 3, 1)
        )
        url = reverse("api:disbursement-detail", args=[disbursement.pk])
        response = api("secretariat").patch(url, {"pledge": pledge_b.pk, "version": 1}, format="json")
        assert response.status_code == 400
        assert "pledge" in response.json()


# --- Priority purchases ----------------------------------------------------------------------------------


class TestPriorities(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "priority"
    model = PriorityPurchase
    csv_columns = ("coalition_slug", "coalition_name", "allocated_eur", "coverage", "gap_eur")

    @pytest.fixture
    def record(self, priority):
        return priority

    @pytest.fixture
    def create_body(self, coalition):
        return {"coalition": "test-coalition", "title": "Firewalls", "estimated_cost_eur": "1500000.00"}

    @pytest.fixture
    def update_body(self):
        return {"title": "Data centre, phase 1", "estimated_cost_eur": "3500000.00"}


class TestPriorityFigures(APITestBase):
    def test_allocated_coverage_and_gap(self, api, priority, pledge_b):
        services.allocation_set(acting_user=None, pledge=pledge_b, priority=priority, amount_eur=Decimal("1000000.00"))
        data = api("partner").get(reverse("api:priority-detail", args=[priority.pk])).json()
        assert data["allocated_eur"] == "1000000.00"
        assert data["coverage"] == "0.2500"
        assert data["gap_eur"] == "3000000.00"

    def test_transition_and_rerank(self, api, coalition, priority):
        second = services.priority_create(
            acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("10.00")
        )
        client = api("secretariat")
        url = reverse("api:priority-transition", args=[priority.pk])
        response = client.post(url, {"status": "approved", "version": 1}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "approved"
        response = client.post(
            reverse("api:priority-rerank"),
            {"coalition": "test-coalition", "ordered_ids": [second.pk, priority.pk]},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert [(row["id"], row["rank"]) for row in response.json()] == [(second.pk, 1), (priority.pk, 2)]

    def test_rank_and_status_are_not_changed_by_an_update(self, api, priority):
        url = reverse("api:priority-detail", args=[priority.pk])
        response = api("secretariat").patch(url, {"rank": 4, "status": "dropped", "version": 1}, format="json")
        assert response.status_code == 400
        assert "rerank" in response.json()["rank"][0] and "transition" in response.json()["status"][0]

    def test_a_priority_with_allocations_cannot_be_deleted(self, api, priority, pledge_b):
        services.allocation_set(acting_user=None, pledge=pledge_b, priority=priority, amount_eur=Decimal("1.00"))
        response = api("secretariat").delete(reverse("api:priority-detail", args=[priority.pk]))
        assert response.status_code == 400
        assert "drop it" in response.json()["non_field_errors"][0]


# --- Allocations ----------------------------------------------------------------------------------------


class TestAllocations(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "allocation"
    model = Allocation
    csv_columns = ("pledge_id", "pledge_title", "priority_id", "priority_title", "member_code", "member_name")

    @pytest.fixture
    def record(self, priority, pledge_b):
        return services.allocation_set(
            acting_user=None, pledge=pledge_b, priority=priority, amount_eur=Decimal("500000.00")
        )

    @pytest.fixture
    def create_body(self, priority, pledge_a):
        return {"pledge": pledge_a.pk, "priority": priority.pk, "amount_eur": "1000.00"}

    @pytest.fixture
    def update_body(self):
        return {"amount_eur": "600000.00"}


class TestAllocationRules(APITestBase):
    def test_more_than_the_pledge_is_worth(self, api, priority, pledge_a):
        body = {"pledge": pledge_a.pk, "priority": priority.pk, "amount_eur": "918864.29"}
        response = api("secretariat").post(reverse("api:allocation-list"), body, format="json")
        assert response.status_code == 400
        assert "918864.28" in response.json()["amount_eur"][0]  # 1,000,000 USD at 1.0883

    def test_a_second_allocation_of_the_same_pair_points_to_the_first(self, api, priority, pledge_a):
        body = {"pledge": pledge_a.pk, "priority": priority.pk, "amount_eur": "1.00"}
        first = api("secretariat").post(reverse("api:allocation-list"), body, format="json")
        second = api("secretariat").post(reverse("api:allocation-list"), body, format="json")
        assert second.status_code == 400
        assert f"/api/v1/allocations/{first.json()['id']}/" in second.json()["priority"][0]


# --- Exchange rates --------------------------------------------------------------------------------------


class TestExchangeRates(ResourceTests):
    basename = "exchange-rate"
    csv_columns = ("currency", "date", "rate", "source")

    @pytest.fixture
    def record(self, rates):
        return ExchangeRate.objects.get(currency="USD", date=date(2024, 2, 2))

    def test_rates_are_read_only(self, api, record):
        url = reverse("api:exchange-rate-list")
        response = api("secretariat").post(url, {"currency": "USD"}, format="json")
        assert response.status_code == 405

    def test_rate_is_the_ecb_decimal(self, api, record):
        data = api("partner").get(self.detail_url(record)).json()
        assert data == {"id": record.pk, "currency": "USD", "date": "2024-02-02", "rate": "1.08830000", "source": "ECB"}

    def test_filter_by_currency_and_date(self, api, record):
        response = api("partner").get(
            reverse("api:exchange-rate-list"), {"currency": "USD,GBP", "date_after": "2024-05-01"}
        )
        assert sorted(row["currency"] for row in response.json()["results"]) == ["GBP", "USD"]
