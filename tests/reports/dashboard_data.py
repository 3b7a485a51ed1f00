"""Known data for the dashboard's tests: what each figure must come to is worked out by hand."""

from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
import simple_history.models

from contributions import services
from contributions.services.allocations import allocation_set
from meetings import services as meeting_services
from tests import factories

D = Decimal
MEETING_DAY = date(2024, 3, 1)


def on(day):
    """Noon of ``day`` (UTC): an instant well inside that day in Kyiv too."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@contextmanager
def recorded_at(when):
    """History rows written inside are dated ``when`` (the "since the meeting" figures read the
    history as it stood at the meeting); nothing else sees the clock moved."""
    with mock.patch.object(simple_history.models, "timezone", SimpleNamespace(now=lambda: when)):
        yield


def _pledge(coalition, member, amount, announced_on, status="announced", **extra):
    return factories.make_pledge(
        coalition=coalition,
        member=member,
        amount=D(amount),
        currency="EUR",
        announced_on=announced_on,
        status=status,
        **extra,
    )


@pytest.fixture
def held_meeting(coalition, secretariat):
    meeting = meeting_services.meeting_create(
        acting_user=secretariat,
        coalition=coalition,
        title="Second steering group",
        starts_at=datetime(2024, 3, 1, 10, tzinfo=UTC),
    )
    return meeting_services.meeting_mark_held(acting_user=secretariat, meeting=meeting)


@pytest.fixture
def known(coalition, member_a, member_b, secretariat, held_meeting):
    """EE: 2 M confirmed before the meeting, 0.5 M announced; LU: 3 M announced before it and confirmed
    after it, 1 M announced after it; LV seated with no pledge; disbursements before and after (each
    recorded on its day); two priorities."""
    latvia = factories.MemberFactory(code="LV", name="Latvia")
    factories.MembershipFactory(member=latvia, coalition=coalition, role="member")
    # Each step's history row is dated the day the story has it (the meeting ends with 1 March).
    with recorded_at(on(date(2024, 2, 1))):
        ee_confirmed = _pledge(
            coalition, member_a, "2000000", date(2024, 1, 10), "confirmed", confirmed_on=date(2024, 2, 1)
        )
    with recorded_at(on(date(2024, 1, 20))):
        ee_announced = _pledge(coalition, member_a, "500000", date(2024, 1, 20), kind="in_kind", channel="trust_fund")
    with recorded_at(on(date(2024, 2, 15))):
        lu_confirmed = _pledge(coalition, member_b, "3000000", date(2024, 2, 15), kind="in_kind", channel="trust_fund")
    with recorded_at(on(date(2024, 3, 10))):
        lu_confirmed = services.pledge_confirm(acting_user=secretariat, pledge=lu_confirmed, on_date=date(2024, 3, 10))
    with recorded_at(on(date(2024, 4, 1))):
        _pledge(coalition, member_b, "1000000", date(2024, 4, 1), channel="procurement_agency")
    for pledge, amount, day in (
        (ee_confirmed, "400000", date(2024, 2, 20)),
        (ee_confirmed, "100000", date(2024, 3, 20)),
        (lu_confirmed, "300000", date(2024, 4, 5)),
    ):
        pledge.refresh_from_db()
        with recorded_at(on(day)):
            services.disbursement_record(acting_user=secretariat, pledge=pledge, amount=D(amount), date=day)
    servers = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Servers", estimated_cost_eur=D("1000000")
    )
    licences = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Licences", estimated_cost_eur=D("100000")
    )
    for pledge, priority, amount in (
        (lu_confirmed, servers, "600000"),
        (ee_announced, servers, "300000"),
        (ee_confirmed, licences, "100000"),
    ):
        pledge.refresh_from_db()
        allocation_set(acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=D(amount))
    return {"latvia": latvia, "servers": servers, "licences": licences}
