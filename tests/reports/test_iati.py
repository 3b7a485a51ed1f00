"""The IATI 2.03 export: valid against the standard's own schema (vendored in tests/data/iati-2.03 with
the codelists it uses), every published amount in it with its currency and dates, its totals per
transaction type equal to the summary's, for the demo and for a coalition of 10,000 pledges."""

import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from lxml import etree

from coalition import services as coalition_services
from coalition.models import Coalition
from contributions import aggregates
from contributions import services as pledge_services
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from reports import iati
from tests import factories
from tests.api_mixins import client_with_key

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "iati-2.03"
SCHEMA = etree.XMLSchema(etree.parse(str(DATA / "iati-activities-schema.xsd")))


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The personas' passwords are hashed with PBKDF2 otherwise: seconds per test, nothing tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def codelist(name):
    return {code.text for code in etree.parse(str(DATA / "codelists" / f"{name}.xml")).iter("code")}


def parse_valid(document):
    """The document parsed, after the 2.03 schema has accepted it (the errors say where it did not)."""
    tree = etree.fromstring(document)
    assert SCHEMA.validate(tree), "\n".join(str(error) for error in SCHEMA.error_log)
    return tree


def check_codes(tree):
    """Every code the export writes is one of the 2.03 codelists' own."""
    checks = {
        "transaction/transaction-type/@code": "TransactionType",
        "participating-org/@role": "OrganisationRole",
        "participating-org/@type": "OrganisationType",
        "reporting-org/@type": "OrganisationType",
        "transaction/provider-org/@type": "OrganisationType",
        "activity-status/@code": "ActivityStatus",
        "activity-date/@type": "ActivityDateType",
        "description/@type": "DescriptionType",
        "transaction/value/@currency": "Currency",
        "@default-currency": "Currency",
    }
    for path, name in checks.items():
        used = set(tree.xpath(f"//iati-activity/{path}"))
        assert used, path
        assert used <= codelist(name), (path, used - codelist(name))


def transactions(tree, kind):
    """``ref -> [(value, currency, value-date, transaction-date)]`` of one transaction type."""
    found = defaultdict(list)
    for element in tree.iter("transaction"):
        if element.find("transaction-type").get("code") == kind:
            value = element.find("value")
            found[element.get("ref")].append(
                (
                    Decimal(value.text),
                    value.get("currency"),
                    value.get("value-date"),
                    element.find("transaction-date").get("iso-date"),
                )
            )
    return found


def check_against_the_database_and_the_summary(tree, coalition, summary):
    """Every confirmed published pledge is committed in its currency for its whole original amount,
    every disbursement disbursed whole; the commitments' pledges add up to the summary's confirmed
    figure and the disbursements' to its disbursed figure (both EUR)."""
    commitments = transactions(tree, iati.COMMITMENT)
    confirmed = Pledge.objects.published().filter(coalition=coalition, status__in=Pledge.CONFIRMED_STATUSES)
    assert set(commitments) == {f"pledge-{pk}" for pk in confirmed.values_list("pk", flat=True)}
    confirmed_eur = Decimal(0)
    for pledge in confirmed:
        parts = commitments[f"pledge-{pledge.pk}"]
        assert sum(value for value, *_ in parts) == pledge.amount
        assert {(currency, value_date) for _v, currency, value_date, _d in parts} == {
            (pledge.currency, pledge.exchange_rate_date.isoformat())
        }
        confirmed_eur += pledge.amount_eur
    assert confirmed_eur == Decimal(summary["confirmed_eur"])

    disbursements = transactions(tree, iati.DISBURSEMENT)
    published = Disbursement.objects.published().filter(pledge__coalition=coalition).select_related("pledge")
    assert set(disbursements) == {f"disbursement-{d.pk}" for d in published}
    for disbursement in published:
        parts = disbursements[f"disbursement-{disbursement.pk}"]
        assert sum(value for value, *_ in parts) == disbursement.amount
        assert {(c, vd, td) for _v, c, vd, td in parts} == {
            (disbursement.pledge.currency, disbursement.date.isoformat(), disbursement.date.isoformat())
        }
    disbursed_eur = sum((p.disbursed_eur for p in confirmed), Decimal(0))
    assert disbursed_eur == Decimal(summary["disbursed_eur"])


def summary_of(coalition):
    user = factories.persona("iati_reader", "steering", coalitions=[coalition])
    key = coalition_services.api_key_create(owner=user, name="iati")[1]
    response = client_with_key(key).get("/api/v1/summary/", {"coalition": coalition.slug})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def small(db):
    """A coalition with a split pledge in dollars, an unallocated one, a disbursement, and private rows."""
    factories.standard_rates()
    coalition = factories.CoalitionFactory(slug="iati-coalition", name="IATI Coalition")
    ee = factories.MemberFactory(code="EE", name="Estonia", iati_identifier="XM-DAC-82")
    nato = factories.MemberFactory(code="NSPA", name="NATO Support and Procurement Agency")
    for member in (ee, nato):
        factories.MembershipFactory(member=member, coalition=coalition)
    radios = pledge_services.priority_create(
        acting_user=None,
        coalition=coalition,
        title="Secure radios",
        estimated_cost_eur=Decimal("900000.00"),
        target_date=date(2025, 6, 30),
    )
    dollars = factories.make_pledge(coalition=coalition, member=ee, amount=Decimal("1000000.00"), currency="USD")
    dollars = pledge_services.pledge_confirm(acting_user=None, pledge=dollars, on_date=date(2024, 3, 1))
    pledge_services.allocation_set(acting_user=None, pledge=dollars, priority=radios, amount_eur=Decimal("333333.33"))
    dollars.refresh_from_db()
    pledge_services.disbursement_record(
        acting_user=None, pledge=dollars, amount=Decimal("250000.00"), date=date(2024, 5, 2)
    )
    euros = factories.make_pledge(coalition=coalition, member=nato, amount=Decimal("40000.00"))
    pledge_services.pledge_confirm(acting_user=None, pledge=euros, on_date=date(2024, 4, 1))
    factories.make_pledge(coalition=coalition, member=ee, title="QXANNOUNCEDONLY", amount=Decimal("5000.00"))
    factories.make_pledge(coalition=coalition, member=ee, title="QXDRAFT", status="draft", amount=Decimal("6000.00"))
    withdrawn = factories.make_pledge(coalition=coalition, member=ee, title="QXWITHDRAWN", status="draft")
    pledge_services.pledge_withdraw(acting_user=None, pledge=withdrawn)
    return coalition


def test_the_export_is_valid_iati_2_03_with_the_codelists_codes(small):
    tree = parse_valid(iati.to_bytes(small))
    assert tree.tag == "iati-activities" and tree.get("version") == "2.03"
    check_codes(tree)
    identifiers = tree.xpath("//iati-identifier/text()")
    assert len(identifiers) == len(set(identifiers)) == 2  # one priority, and the unallocated money
    reporting = tree.xpath("//reporting-org/@ref")[0]
    assert all(identifier.startswith(f"{reporting}-") for identifier in identifiers)


def test_a_split_pledge_keeps_its_original_amount_and_currency(small):
    tree = parse_valid(iati.to_bytes(small))
    radios, unallocated = tree.findall("iati-activity")
    assert radios.findtext("title/narrative") == "Secure radios"
    dollars = Pledge.objects.get(currency="USD")
    share = Decimal("333333.33") / dollars.amount_eur
    in_radios = radios.xpath(f"transaction[@ref='pledge-{dollars.pk}']/value")[0]
    rest = unallocated.xpath(f"transaction[@ref='pledge-{dollars.pk}']/value")[0]
    assert Decimal(in_radios.text) == (Decimal("1000000.00") * share).quantize(Decimal("0.01"))
    assert Decimal(in_radios.text) + Decimal(rest.text) == Decimal("1000000.00")
    assert in_radios.get("currency") == rest.get("currency") == "USD"
    assert in_radios.get("value-date") == dollars.exchange_rate_date.isoformat()
    # The member with an identifier is named by it, as funder and as provider; the other by name only.
    assert radios.xpath("participating-org[@role='1']/@ref") == ["XM-DAC-82"]
    assert radios.xpath("transaction/provider-org/@ref")[0] == "XM-DAC-82"
    assert unallocated.xpath("participating-org[@role='1']/narrative/text()") == [
        "Estonia",
        "NATO Support and Procurement Agency",
    ]
    assert radios.xpath("activity-date[@type='3']/@iso-date") == ["2025-06-30"]


def test_only_confirmed_published_pledges_are_committed(small):
    document = iati.to_bytes(small)
    for marker in ("QXANNOUNCEDONLY", "QXDRAFT", "QXWITHDRAWN"):
        assert marker.encode() not in document
    tree = parse_valid(document)
    check_against_the_database_and_the_summary(tree, small, summary_of(small))


def test_the_demo_exports_valid_iati_that_agrees_with_the_summary(db):
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        call_command("load_demo", allow_production=True, stdout=io.StringIO())
    demo = Coalition.objects.get(slug="it-coalition")
    tree = parse_valid(iati.to_bytes(demo))
    check_codes(tree)
    assert len(tree.findall("iati-activity")) == PriorityPurchase.objects.filter(coalition=demo).count() + 1
    assert tree.xpath("//transaction-type[@code='2']")
    check_against_the_database_and_the_summary(tree, demo, summary_of(demo))


@pytest.mark.slow
def test_a_coalition_of_10000_pledges_exports_whole(db):
    """Built with bulk inserts (the services would take minutes): 10,000 published pledges in five
    currencies, 7,500 of them confirmed, a third allocated to 20 priorities, 2,000 disbursements."""
    factories.standard_rates()
    coalition = factories.CoalitionFactory(slug="big", name="Big Coalition")
    members = [factories.MemberFactory(code=f"M{i:02d}", name=f"Member {i}") for i in range(10)]
    for member in members:
        factories.MembershipFactory(member=member, coalition=coalition)
    priorities = PriorityPurchase.objects.bulk_create(
        PriorityPurchase(coalition=coalition, title=f"Priority {i}", rank=i + 1, estimated_cost_eur=Decimal(10**7))
        for i in range(20)
    )
    rates = {"EUR": Decimal(1), "USD": Decimal("1.0883"), "GBP": Decimal("0.85263"), "PLN": Decimal("4.3175")}
    rates["JPY"] = Decimal("159.58")
    currencies = sorted(rates)
    day, now = date(2024, 2, 2), datetime.now(UTC)
    statuses = ("announced", "confirmed", "disbursing", "fulfilled")
    with transaction.atomic():
        pledges = Pledge.objects.bulk_create(
            Pledge(
                coalition=coalition,
                member=members[i % 10],
                title=f"Pledge {i}",
                amount=Decimal(10_000 + i * 7).quantize(Decimal("0.01")),
                currency=currencies[i % 5],
                status=statuses[i % 4],
                announced_on=day + timedelta(days=i % 300),
                confirmed_on=(day + timedelta(days=i % 300 + 3)) if i % 4 else None,
                amount_eur=(Decimal(10_000 + i * 7) / rates[currencies[i % 5]]).quantize(Decimal("0.01")),
                exchange_rate=rates[currencies[i % 5]],
                exchange_rate_date=day,
                published_at=now,
            )
            for i in range(10_000)
        )
        Allocation.objects.bulk_create(
            Allocation(pledge=p, priority=priorities[i % 20], amount_eur=(p.amount_eur / 3).quantize(Decimal("0.01")))
            for i, p in enumerate(pledges)
            if i % 3 == 0
        )
        paid = [p for i, p in enumerate(pledges) if p.status == "disbursing" and i % 5 < 4][:2000]
        Disbursement.objects.bulk_create(
            Disbursement(pledge=p, amount=(p.amount / 2).quantize(Decimal("0.01")), date=date(2024, 9, 1)) for p in paid
        )
        for p in paid:
            p.disbursed_amount = (p.amount / 2).quantize(Decimal("0.01"))
            p.disbursed_eur = (p.amount_eur / 2).quantize(Decimal("0.01"))
        Pledge.objects.bulk_update(paid, ["disbursed_amount", "disbursed_eur"])
    # Bulk inserts bypass the services, as the benchmarks' COPY does: the totals the summary reads
    # are rebuilt after them.
    aggregates.rebuild([coalition.pk])
    assert len(paid) == 2000
    tree = parse_valid(iati.to_bytes(coalition))
    assert len(tree.findall("iati-activity")) == 21
    check_against_the_database_and_the_summary(tree, coalition, summary_of(coalition))


class TestTheEndpointAndTheCommand:
    def test_the_api_answers_the_document_as_xml(self, small):
        user = factories.persona("partner_iati", "partner", coalitions=[small])
        client = client_with_key(coalition_services.api_key_create(owner=user, name="iati")[1])
        response = client.get("/api/v1/iati/", {"coalition": "iati-coalition"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/xml")
        parse_valid(response.content)
        # The same data give the same document: its ETag holds until something changes.
        again = client.get("/api/v1/iati/", {"coalition": "iati-coalition"}, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        factories.make_pledge(coalition=small, member=small.memberships.first().member, status="confirmed")
        changed = client.get("/api/v1/iati/", {"coalition": "iati-coalition"}, HTTP_IF_NONE_MATCH=response["ETag"])
        assert changed.status_code == 200
        assert changed.content.count(b"<transaction ") == response.content.count(b"<transaction ") + 1

    def test_bad_requests_answer_json(self, small, coalition):
        user = factories.persona("partner_iati", "partner", coalitions=[small])
        client = client_with_key(coalition_services.api_key_create(owner=user, name="iati")[1])
        missing = client.get("/api/v1/iati/")
        assert missing.status_code == 400
        assert "coalition" in missing.json()
        assert client.get("/api/v1/iati/", {"coalition": coalition.slug}).status_code == 404
        assert client_with_key().get("/api/v1/iati/", {"coalition": "iati-coalition"}).status_code == 401

    def test_the_command_writes_the_same_document(self, small, tmp_path):
        target = tmp_path / "iati.xml"
        out = io.StringIO()
        call_command("export_iati", "iati-coalition", output=str(target), stdout=out)
        assert "2 activities, 5 transactions" in out.getvalue()
        tree = parse_valid(target.read_bytes())
        assert len(tree.findall("iati-activity")) == 2

    def test_the_command_refuses_an_unknown_coalition(self, db):
        with pytest.raises(CommandError, match="No coalition 'nope'"):
            call_command("export_iati", "nope", stdout=io.StringIO())
