"""Pledge services: every invariant and lifecycle transition, and the database constraints behind them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contributions import services
from contributions.models import Pledge
from meetings import services as meeting_services
from tests import factories

S = Pledge.Status
pytestmark = pytest.mark.django_db


def _meeting(coalition, day=date(2024, 2, 2), title="Steering group"):
    starts_at = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 10, 0))
    return meeting_services.meeting_create(acting_user=None, coalition=coalition, title=title, starts_at=starts_at)


def _create(coalition, member, user=None, **overrides):
    fields = {
        "coalition": coalition,
        "member": member,
        "title": "Servers for the data centre",
        "amount": Decimal("250000.00"),
        "currency": "EUR",
        "announced_on": date(2024, 2, 2),
    }
    fields.update(overrides)
    return services.pledge_create(acting_user=user, **fields)


def _pay(pledge, amount, user=None):
    return services.disbursement_record(acting_user=user, pledge=pledge, amount=amount, date=date(2024, 3, 1))


def _error_fields(excinfo):
    return set(excinfo.value.message_dict)


# --- Creating ------------------------------------------------------------------------------------


def test_secretariat_creates_a_draft_pledge_with_its_eur_value(coalition, member_a, secretariat, rates):
    pledge = _create(coalition, member_a, secretariat, amount=Decimal("1088300.00"), currency="USD")

    pledge.refresh_from_db()
    assert pledge.status == S.DRAFT
    assert pledge.amount == Decimal("1088300.00")
    assert pledge.amount_eur == Decimal("1000000.00")
    assert pledge.exchange_rate == Decimal("1.0883")
    assert pledge.exchange_rate_date == date(2024, 2, 2)
    assert pledge.version == 1
    assert pledge.status_changed_by == secretariat


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.00"), Decimal("-1.00"), "-500"])
def test_amount_must_be_greater_than_zero(coalition, member_a, secretariat, amount):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, amount=amount)
    assert "amount" in _error_fields(excinfo)
    assert not Pledge.objects.exists()


@pytest.mark.parametrize("amount", [Decimal("100.001"), "0.005", Decimal("12.3456")])
def test_amount_has_at_most_two_decimal_places(coalition, member_a, secretariat, amount):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, amount=amount)
    assert "two decimal places" in str(excinfo.value)
    assert not Pledge.objects.exists()


@pytest.mark.parametrize("amount", ["abc", "", "NaN", "Infinity"])
def test_amount_must_be_a_number(coalition, member_a, secretariat, amount):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, amount=amount)
    assert "amount" in _error_fields(excinfo)


def test_amount_accepts_a_decimal_string(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, amount="1250000.50")
    assert pledge.amount == Decimal("1250000.50")
    assert pledge.amount_eur == Decimal("1250000.50")


@pytest.mark.parametrize("currency", ["XYZ", "EURO", "E1R", "US"])
def test_currency_must_be_iso_4217(coalition, member_a, secretariat, currency):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, currency=currency)
    assert "currency" in _error_fields(excinfo)
    assert not Pledge.objects.exists()


def test_currency_code_is_normalised_to_capitals(coalition, member_a, secretariat, rates):
    pledge = _create(coalition, member_a, secretariat, currency=" usd ", amount=Decimal("1088.30"))
    assert pledge.currency == "USD"
    assert pledge.amount_eur == Decimal("1000.00")


def test_member_must_belong_to_the_coalition(coalition, other_coalition, secretariat):
    stranger = factories.MemberFactory(code="FR", name="France")
    factories.MembershipFactory(member=stranger, coalition=other_coalition)
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, stranger, secretariat)
    assert "member" in _error_fields(excinfo)
    assert not Pledge.objects.exists()


@pytest.mark.parametrize("status", [S.DRAFT, S.ANNOUNCED, S.CONFIRMED])
def test_a_new_pledge_may_start_draft_announced_or_confirmed(coalition, member_a, secretariat, status):
    assert _create(coalition, member_a, secretariat, status=status).status == status


@pytest.mark.parametrize("status", [S.DISBURSING, S.FULFILLED, S.WITHDRAWN, "unknown"])
def test_a_new_pledge_cannot_start_in_a_later_status(coalition, member_a, secretariat, status):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, status=status)
    assert "status" in _error_fields(excinfo)
    assert not Pledge.objects.exists()


def test_creating_a_confirmed_pledge_records_the_meeting_and_its_date(coalition, member_a, secretariat):
    meeting = _meeting(coalition)
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, confirmed_at_meeting=meeting)
    assert pledge.confirmed_at_meeting == meeting
    assert pledge.confirmed_on == date(2024, 2, 2)


def test_creating_a_pledge_confirmed_at_another_coalitions_meeting_is_refused(
    coalition, other_coalition, member_a, secretariat
):
    meeting = _meeting(other_coalition)
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, member_a, secretariat, status=S.CONFIRMED, confirmed_at_meeting=meeting)
    assert "confirmed_at_meeting" in _error_fields(excinfo)


def test_a_pledge_cannot_be_confirmed_before_it_was_announced(coalition, member_a, secretariat):
    with pytest.raises(ValidationError):
        _create(coalition, member_a, secretariat, status=S.CONFIRMED, confirmed_on=date(2024, 1, 1))
    assert not Pledge.objects.exists()


def test_external_reference_is_unique_within_a_coalition(coalition, member_a, member_b, secretariat):
    _create(coalition, member_a, secretariat, external_ref="EE-2024-1")
    with pytest.raises(ValidationError):
        _create(coalition, member_b, secretariat, external_ref="EE-2024-1")
    # Blank references do not collide.
    _create(coalition, member_a, secretariat)
    _create(coalition, member_b, secretariat)
    assert Pledge.objects.count() == 3


def test_float_amount_raises_type_error(coalition, member_a, secretariat):
    with pytest.raises(TypeError):
        _create(coalition, member_a, secretariat, amount=1000.5)


# --- Updating ------------------------------------------------------------------------------------


def test_update_changes_fields_and_bumps_the_version(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    updated = services.pledge_update(
        acting_user=secretariat, pledge=pledge, version=1, title="Laptops", description="For schools"
    )
    updated.refresh_from_db()
    assert (updated.title, updated.description, updated.version) == ("Laptops", "For schools", 2)


def test_update_without_changes_writes_nothing(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    services.pledge_update(acting_user=secretariat, pledge=pledge, version=1, title=pledge.title)
    pledge.refresh_from_db()
    assert pledge.version == 1
    assert pledge.history.count() == 1


@pytest.mark.parametrize(
    "field", ["status", "amount_eur", "exchange_rate_date", "disbursed_amount", "coalition", "member"]
)
def test_update_refuses_fields_services_compute(coalition, member_a, secretariat, field):
    pledge = _create(coalition, member_a, secretariat)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_update(acting_user=secretariat, pledge=pledge, **{field: None})
    assert field in _error_fields(excinfo)


def test_update_validates_the_amount(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    for bad in (Decimal("0"), Decimal("-5"), Decimal("1.234")):
        with pytest.raises(ValidationError):
            services.pledge_update(acting_user=secretariat, pledge=pledge, amount=bad)
    pledge.refresh_from_db()
    assert pledge.amount == Decimal("250000.00")


def test_update_validates_the_currency(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_update(acting_user=secretariat, pledge=pledge, currency="ABC")
    assert "currency" in _error_fields(excinfo)


def test_update_to_another_coalitions_meeting_is_refused(coalition, other_coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_update(acting_user=secretariat, pledge=pledge, confirmed_at_meeting=_meeting(other_coalition))
    assert "confirmed_at_meeting" in _error_fields(excinfo)


def test_a_withdrawn_pledge_cannot_be_changed(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    with pytest.raises(ValidationError):
        services.pledge_update(acting_user=secretariat, pledge=pledge, title="Revived")
    pledge.refresh_from_db()
    assert pledge.title == "Servers for the data centre"


def test_amount_cannot_drop_below_what_was_disbursed(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    _pay(pledge, Decimal("600.00"))
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_update(acting_user=secretariat, pledge=pledge, amount=Decimal("599.99"))
    assert "amount" in _error_fields(excinfo)
    services.pledge_update(acting_user=secretariat, pledge=pledge, amount=Decimal("600.00"))
    pledge.refresh_from_db()
    assert pledge.amount == Decimal("600.00")
    assert pledge.status == S.FULFILLED


def test_amount_cannot_drop_below_what_is_allocated(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED, amount=Decimal("1000.00"))
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
    )
    services.allocation_set(acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=Decimal("700.00"))
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_update(acting_user=secretariat, pledge=pledge, amount=Decimal("699.99"))
    assert "amount" in _error_fields(excinfo)
    pledge.refresh_from_db()
    assert pledge.amount == Decimal("1000.00")


def test_a_currency_change_that_shrinks_the_eur_value_below_allocations_is_refused(
    coalition, member_a, secretariat, rates
):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED, amount=Decimal("1000.00"))
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
    )
    services.allocation_set(acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=Decimal("1000.00"))
    with pytest.raises(ValidationError):
        services.pledge_update(acting_user=secretariat, pledge=pledge, currency="USD")  # 918.86 EUR
    pledge.refresh_from_db()
    assert pledge.currency == "EUR"


def test_raising_a_fulfilled_pledge_makes_it_disbursing_again_and_records_who(
    coalition, member_a, secretariat, editor_a
):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    _pay(pledge, Decimal("1000.00"))
    pledge.refresh_from_db()
    assert pledge.status == S.FULFILLED
    services.pledge_update(acting_user=editor_a, pledge=pledge, amount=Decimal("1500.00"))
    pledge.refresh_from_db()
    assert pledge.status == S.DISBURSING
    assert pledge.status_changed_by == editor_a


def test_lowering_a_disbursing_pledge_to_what_was_paid_fulfils_it(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    _pay(pledge, Decimal("400.00"))
    services.pledge_update(acting_user=secretariat, pledge=pledge, amount=Decimal("400.00"))
    pledge.refresh_from_db()
    assert pledge.status == S.FULFILLED


# --- Transitions ---------------------------------------------------------------------------------


def test_draft_is_announced_then_confirmed(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    pledge = services.pledge_announce(acting_user=secretariat, pledge=pledge, version=1)
    assert pledge.status == S.ANNOUNCED
    pledge = services.pledge_confirm(acting_user=secretariat, pledge=pledge, version=2, on_date=date(2024, 2, 20))
    pledge.refresh_from_db()
    assert pledge.status == S.CONFIRMED
    assert pledge.confirmed_on == date(2024, 2, 20)
    assert pledge.version == 3


def test_a_draft_may_be_confirmed_directly(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat)
    assert services.pledge_confirm(acting_user=secretariat, pledge=pledge).status == S.CONFIRMED


def test_confirming_records_date_meeting_and_who(coalition, member_a, editor_a):
    pledge = _create(coalition, member_a, editor_a, status=S.ANNOUNCED)
    meeting = _meeting(coalition, date(2024, 2, 2))
    before = timezone.now()
    services.pledge_confirm(acting_user=editor_a, pledge=pledge, meeting=meeting)
    pledge.refresh_from_db()
    assert pledge.confirmed_at_meeting == meeting
    assert pledge.confirmed_on == date(2024, 2, 2)
    assert pledge.status_changed_by == editor_a
    assert pledge.status_changed_at >= before


def test_confirming_without_a_date_uses_today(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED)
    services.pledge_confirm(acting_user=secretariat, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.confirmed_on == timezone.localdate()


def test_confirming_at_another_coalitions_meeting_is_refused(coalition, other_coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_confirm(acting_user=secretariat, pledge=pledge, meeting=_meeting(other_coalition))
    assert "confirmed_at_meeting" in _error_fields(excinfo)
    pledge.refresh_from_db()
    assert (pledge.status, pledge.confirmed_at_meeting) == (S.ANNOUNCED, None)


def test_confirming_before_the_announcement_is_refused(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_confirm(acting_user=secretariat, pledge=pledge, on_date=date(2024, 2, 1))
    assert "confirmed_on" in _error_fields(excinfo)


def test_confirmation_is_signalled_inside_its_transaction(coalition, member_a, secretariat):
    """Inside, so what reacts (an outbox row for the notice) is written with the confirmation or not at
    all: a rolled-back confirmation asks for nothing (tests/reports/test_signals.py)."""
    from contributions.signals import pledge_confirmed

    received = []

    def listener(sender, pledge_id, acting_user_id, **kwargs):
        received.append((pledge_id, acting_user_id))

    pledge_confirmed.connect(listener, dispatch_uid="test-listener")
    try:
        pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.pledge_confirm(acting_user=secretariat, pledge=pledge)
            assert received == [(pledge.pk, secretariat.pk)]
            assert transaction.get_connection().in_atomic_block
            raise RuntimeError("roll it back")
        pledge.refresh_from_db()
        assert pledge.status == S.ANNOUNCED
    finally:
        pledge_confirmed.disconnect(dispatch_uid="test-listener")


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.ANNOUNCED, S.DRAFT),
        (S.CONFIRMED, S.DRAFT),
        (S.CONFIRMED, S.ANNOUNCED),
        (S.CONFIRMED, S.CONFIRMED),
        (S.ANNOUNCED, S.ANNOUNCED),
        (S.DRAFT, "nonsense"),
    ],
)
def test_refused_transitions(coalition, member_a, secretariat, start, target):
    pledge = _create(coalition, member_a, secretariat, status=start)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_transition(acting_user=secretariat, pledge=pledge, to_status=target)
    assert "status" in _error_fields(excinfo)
    pledge.refresh_from_db()
    assert (pledge.status, pledge.version) == (start, 1)


@pytest.mark.parametrize("start", [S.DRAFT, S.ANNOUNCED, S.CONFIRMED])
@pytest.mark.parametrize("target", [S.DISBURSING, S.FULFILLED])
def test_disbursing_and_fulfilled_cannot_be_set_by_hand(coalition, member_a, secretariat, start, target):
    pledge = _create(coalition, member_a, secretariat, status=start)
    with pytest.raises(ValidationError) as excinfo:
        services.pledge_transition(acting_user=secretariat, pledge=pledge, to_status=target)
    assert "disbursement" in str(excinfo.value)
    pledge.refresh_from_db()
    assert pledge.status == start


@pytest.mark.parametrize("start", [S.DRAFT, S.ANNOUNCED, S.CONFIRMED])
def test_withdrawn_from_any_state_before_disbursing(coalition, member_a, secretariat, start):
    pledge = _create(coalition, member_a, secretariat, status=start)
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.status == S.WITHDRAWN
    assert pledge.status_changed_by == secretariat


def test_a_disbursing_pledge_may_be_withdrawn_and_keeps_its_payments(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    _pay(pledge, Decimal("100.00"))
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.status == S.WITHDRAWN
    assert pledge.disbursed_amount == Decimal("100.00")


def test_a_fulfilled_pledge_cannot_be_withdrawn(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    _pay(pledge, Decimal("1000.00"))
    with pytest.raises(ValidationError):
        services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.status == S.FULFILLED


@pytest.mark.parametrize("target", [S.ANNOUNCED, S.CONFIRMED, S.WITHDRAWN, S.DRAFT])
def test_a_withdrawn_pledge_stays_withdrawn(coalition, member_a, secretariat, target):
    pledge = _create(coalition, member_a, secretariat)
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    with pytest.raises(ValidationError):
        services.pledge_transition(acting_user=secretariat, pledge=pledge, to_status=target)


def test_withdrawing_releases_the_allocations(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
    )
    allocation = services.allocation_set(
        acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=Decimal("500.00")
    )
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    assert not priority.allocations.exists()
    deletion = allocation.history.latest()
    assert (deletion.history_type, deletion.history_user) == ("-", secretariat)


def test_stale_version_transition_is_a_conflict(coalition, member_a, secretariat):
    from coalition.errors import ConflictError

    pledge = _create(coalition, member_a, secretariat)
    services.pledge_update(acting_user=secretariat, pledge=pledge, version=1, title="Changed")
    with pytest.raises(ConflictError):
        services.pledge_announce(acting_user=secretariat, pledge=pledge, version=1)
    pledge.refresh_from_db()
    assert pledge.status == S.DRAFT


# --- Deleting ------------------------------------------------------------------------------------


def test_delete_removes_the_pledge_and_its_allocations(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.ANNOUNCED)
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
    )
    services.allocation_set(acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=Decimal("10.00"))
    services.pledge_delete(acting_user=secretariat, pledge=pledge, version=1)
    assert not Pledge.objects.exists()
    assert not priority.allocations.exists()


def test_a_pledge_with_disbursements_cannot_be_deleted(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED)
    _pay(pledge, Decimal("1.00"))
    with pytest.raises(ValidationError):
        services.pledge_delete(acting_user=secretariat, pledge=pledge)
    assert Pledge.objects.filter(pk=pledge.pk).exists()


# --- Database constraints, bypassing the services -----------------------------------------------


def _raw_pledge(coalition, member, **overrides):
    fields = {
        "coalition": coalition,
        "member": member,
        "title": "Raw",
        "amount": Decimal("100.00"),
        "currency": "EUR",
        "announced_on": date(2024, 2, 2),
        "amount_eur": Decimal("100.00"),
        "exchange_rate": Decimal("1"),
        "exchange_rate_date": date(2024, 2, 2),
    }
    fields.update(overrides)
    return Pledge.objects.create(**fields)


def test_raw_pledge_with_valid_values_is_accepted(coalition, member_a):
    pledge = _raw_pledge(coalition, member_a)

    stored = Pledge.objects.filter(pk=pledge.pk).values(
        "coalition", "member", "title", "amount", "currency", "amount_eur", "status", "disbursed_amount"
    )
    assert list(stored) == [
        {
            "coalition": coalition.pk,
            "member": member_a.pk,
            "title": "Raw",
            "amount": Decimal("100.00"),
            "currency": "EUR",
            "amount_eur": Decimal("100.00"),
            "status": Pledge.Status.DRAFT,
            "disbursed_amount": Decimal("0.00"),
        }
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": Decimal("0")},
        {"amount": Decimal("-1.00")},
        {"amount_eur": Decimal("0")},
        {"exchange_rate": Decimal("0")},
        {"currency": "eur"},
        {"currency": "EU"},
        {"currency": "E1R"},
        {"disbursed_amount": Decimal("100.01")},
        {"disbursed_amount": Decimal("-0.01")},
        {"status": "lost"},
        {"confirmed_on": date(2024, 2, 1)},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_database_refuses_broken_pledges(coalition, member_a, overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_pledge(coalition, member_a, **overrides)
    assert not Pledge.objects.exists()


def test_database_refuses_a_duplicate_external_reference(coalition, member_a):
    _raw_pledge(coalition, member_a, external_ref="X-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_pledge(coalition, member_a, external_ref="X-1")
    _raw_pledge(coalition, member_a, external_ref="")
    _raw_pledge(coalition, member_a, external_ref="")
    assert Pledge.objects.count() == 3


def test_database_refuses_disbursed_above_the_amount_on_update(coalition, member_a):
    pledge = _raw_pledge(coalition, member_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(disbursed_amount=Decimal("100.01"))
    Pledge.objects.filter(pk=pledge.pk).update(disbursed_amount=Decimal("100.00"))
    pledge.refresh_from_db()
    assert pledge.disbursed_amount == Decimal("100.00")


def test_pledge_str_and_remaining_amount(coalition, member_a, secretariat):
    pledge = _create(coalition, member_a, secretariat, status=S.CONFIRMED, amount=Decimal("1000.00"))
    services.disbursement_record(
        acting_user=secretariat, pledge=pledge, amount=Decimal("250.00"), date=date(2024, 2, 2) + timedelta(days=3)
    )
    pledge.refresh_from_db()
    assert str(pledge) == "EE: Servers for the data centre (1000.00 EUR)"
    assert pledge.remaining_amount == Decimal("750.00")
