"""Several hundred pledges in ten currencies posted through the API, as a ministry's script would:
every ``amount_eur`` is the amount at the ECB rate of its date (or the last one published before it)
to the cent, computed here independently, and the summary's total is their sum."""

import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from contributions.models import Pledge
from tests import factories
from tests.api_mixins import APITestBase

pytestmark = pytest.mark.django_db

PLEDGES = 400
#: The day a pledge is announced -> the ECB fixing its EUR value must use (weekends and holidays
#: fall back to the last one published).
FIXING = {
    date(2024, 2, 2): date(2024, 2, 2),  # Friday
    date(2024, 2, 4): date(2024, 2, 2),  # Sunday
    date(2024, 3, 28): date(2024, 3, 28),  # Thursday before Easter
    date(2024, 3, 29): date(2024, 3, 28),  # Good Friday: no fixing
    date(2024, 4, 1): date(2024, 3, 28),  # Easter Monday: no fixing
    date(2024, 5, 31): date(2024, 5, 31),  # Friday, the Tallinn meeting
    date(2024, 6, 2): date(2024, 5, 31),  # Sunday
}
CURRENCIES = ["EUR", *sorted(factories.ECB_RATES[date(2024, 2, 2)])]
MEMBERS = [("EE", "Estonia"), ("LU", "Luxembourg"), ("DK", "Denmark"), ("LV", "Latvia"), ("LT", "Lithuania")]


def expected_eur(amount, currency, announced_on):
    if currency == "EUR":
        return amount
    rate = Decimal(factories.ECB_RATES[FIXING[announced_on]][currency])
    return (amount / rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class TestBulkPledges(APITestBase):
    @pytest.fixture
    def members(self, coalition, member_a, member_b, rates):
        for code, name in MEMBERS[2:]:
            factories.MembershipFactory(member=factories.MemberFactory(code=code, name=name), coalition=coalition)

    @pytest.mark.slow
    def test_hundreds_of_pledges_in_ten_currencies_convert_to_the_cent(self, api, coalition, members):
        assert len(CURRENCIES) >= 8
        rng = random.Random(20240202)
        client = api("secretariat")
        expected = {}
        for i in range(PLEDGES):
            currency = CURRENCIES[i % len(CURRENCIES)]
            announced_on = rng.choice(sorted(FIXING))
            # From a few hundred units to hundreds of millions (yen), always two decimal places.
            amount = Decimal(rng.randint(10_000, 50_000_000_000)).scaleb(-2)
            body = {
                "coalition": "test-coalition",
                "member": MEMBERS[i % len(MEMBERS)][0],
                "title": f"Pledge {i}",
                "amount": str(amount),
                "currency": currency,
                "announced_on": announced_on.isoformat(),
                "status": rng.choice(["announced", "confirmed"]),
                "external_ref": f"BULK-{i:04d}",
            }
            response = client.post(reverse("api:pledge-list"), body, format="json")
            assert response.status_code == 201, (body, response.content)
            data = response.json()
            want = expected_eur(amount, currency, announced_on)
            assert data["amount_eur"] == str(want), body
            if currency != "EUR":
                assert data["exchange_rate_date"] == FIXING[announced_on].isoformat()
            expected[data["id"]] = want

        assert len({Pledge.objects.get(pk=pk).currency for pk in expected}) == len(CURRENCIES)
        stored = dict(Pledge.objects.values_list("pk", "amount_eur"))
        assert stored == expected

        summary = client.get(reverse("api:summary"), {"coalition": "test-coalition"}).json()
        assert summary["total_eur"] == str(sum(expected.values(), Decimal("0.00")))
        assert summary["pledge_count"] == PLEDGES
        by_member = sum((Decimal(row["total_eur"]) for row in summary["by_member"]), Decimal("0.00"))
        assert by_member == sum(expected.values())

        # And the list hands them all back, page after page, with the same EUR values.
        listed, url = {}, reverse("api:pledge-list") + "?page_size=200"
        while url:
            page = client.get(url).json()
            listed.update({row["id"]: Decimal(row["amount_eur"]) for row in page["results"]})
            url = page["next"]
        assert listed == expected
