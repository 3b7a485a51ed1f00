"""Disbursement services: never above the pledge, only on confirmed pledges, and the status follows."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coalition.errors import ConflictError
from contributions import services
from contributions.models import Disbursement, Pledge
from tests import factories

S = Pledge.Status
pytestmark = pytest.mark.django_db
PAID_ON = date(2024, 3, 1)


@pytest.fixture
def confirmed(coalition, member_a):
    """A confirmed EUR 1,000 pledge of member A."""
    return factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("1000.00"), status="confirmed")


def _pay(pledge, amount, user=None, on=PAID_ON, **extra):
    return services.disbursement_record(acting_user=user, pledge=pledge, amount=amount, date=on, **extra)


def _fresh(pledge):
    return Pledge.objects.get(pk=pledge.pk)


def test_recording_a_disbursement_makes_the_pledge_disbursing(confirmed, editor_a):
    disbursement = _pay(confirmed, Decimal("400.00"), editor_a, reference="TX-1", note="First tranche")
    pledge = _fresh(confirmed)
    assert pledge.status == S.DISBURSING
    assert pledge.disbursed_amount == Decimal("400.00")
    assert pledge.disbursed_eur == Decimal("400.00")
    assert pledge.status_changed_by == editor_a
    assert pledge.version == 2
    assert (disbursement.reference, disbursement.note, disbursement.created_by) == ("TX-1", "First tranche", editor_a)


def test_paying_the_remainder_fulfils_the_pledge(confirmed, secretariat):
    _pay(confirmed, Decimal("400.00"), secretariat)
    _pay(confirmed, Decimal("600.00"), secretariat)
    pledge = _fresh(confirmed)
    assert pledge.status == S.FULFILLED
    assert pledge.disbursed_amount == pledge.amount
    assert pledge.remaining_amount == Decimal("0.00")


def test_the_running_total_never_exceeds_the_pledge(confirmed, secretariat):
    _pay(confirmed, Decimal("700.00"), secretariat)
    with pytest.raises(ValidationError) as excinfo:
        _pay(confirmed, Decimal("300.01"), secretariat)
    assert "amount" in excinfo.value.message_dict
    assert "300.00" in str(excinfo.value)  # says what is still open
    pledge = _fresh(confirmed)
    assert pledge.disbursed_amount == Decimal("700.00")
    assert pledge.disbursements.count() == 1


def test_a_single_disbursement_above_the_pledge_is_refused(confirmed, secretariat):
    with pytest.raises(ValidationError):
        _pay(confirmed, Decimal("1000.01"), secretariat)
    assert not Disbursement.objects.exists()
    assert _fresh(confirmed).status == S.CONFIRMED


@pytest.mark.parametrize("status", [S.DRAFT, S.ANNOUNCED])
def test_a_pledge_takes_disbursements_only_once_confirmed(coalition, member_a, secretariat, status):
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status=status)
    with pytest.raises(ValidationError) as excinfo:
        _pay(pledge, Decimal("1.00"), secretariat)
    assert "confirm it first" in str(excinfo.value)
    assert not Disbursement.objects.exists()


def test_a_withdrawn_pledge_takes_no_disbursements(confirmed, secretariat):
    services.pledge_withdraw(acting_user=secretariat, pledge=confirmed)
    with pytest.raises(ValidationError):
        _pay(confirmed, Decimal("1.00"), secretariat)
    assert not Disbursement.objects.exists()


def test_a_fulfilled_pledge_takes_no_more_disbursements(confirmed, secretariat):
    _pay(confirmed, Decimal("1000.00"), secretariat)
    with pytest.raises(ValidationError) as excinfo:
        _pay(confirmed, Decimal("0.01"), secretariat)
    assert "no more disbursements" in str(excinfo.value)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-10.00"), Decimal("1.001"), "x"])
def test_disbursement_amount_is_positive_with_two_places(confirmed, secretariat, amount):
    with pytest.raises(ValidationError):
        _pay(confirmed, amount, secretariat)
    assert not Disbursement.objects.exists()


def test_disbursement_amount_refuses_float(confirmed, secretariat):
    with pytest.raises(TypeError):
        _pay(confirmed, 10.0, secretariat)


def test_a_disbursement_needs_a_date_not_before_the_announcement(confirmed, secretariat):
    with pytest.raises(ValidationError) as excinfo:
        _pay(confirmed, Decimal("1.00"), secretariat, on=None)
    assert "date" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        _pay(confirmed, Decimal("1.00"), secretariat, on=date(2024, 2, 1))
    assert "date" in excinfo.value.message_dict
    _pay(confirmed, Decimal("1.00"), secretariat, on=date(2024, 2, 2))
    assert Disbursement.objects.count() == 1


def test_disbursed_eur_uses_the_pledges_rate(coalition, member_a, secretariat, rates):
    pledge = factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("1088300.00"), currency="USD", status="confirmed"
    )
    _pay(pledge, Decimal("544150.00"), secretariat)
    assert _fresh(pledge).disbursed_eur == Decimal("500000.00")
    _pay(pledge, Decimal("544150.00"), secretariat)
    fulfilled = _fresh(pledge)
    assert fulfilled.disbursed_eur == fulfilled.amount_eur == Decimal("1000000.00")


# --- Updating and deleting -----------------------------------------------------------------------


def test_updating_an_amount_keeps_the_running_total_within_the_pledge(confirmed, secretariat):
    first = _pay(confirmed, Decimal("600.00"), secretariat)
    _pay(confirmed, Decimal("300.00"), secretariat)
    with pytest.raises(ValidationError):
        services.disbursement_update(acting_user=secretariat, disbursement=first, amount=Decimal("700.01"))
    assert Disbursement.objects.get(pk=first.pk).amount == Decimal("600.00")
    services.disbursement_update(acting_user=secretariat, disbursement=first, version=1, amount=Decimal("700.00"))
    pledge = _fresh(confirmed)
    assert (pledge.disbursed_amount, pledge.status) == (Decimal("1000.00"), S.FULFILLED)


def test_lowering_a_disbursement_steps_a_fulfilled_pledge_back_to_disbursing(confirmed, secretariat):
    payment = _pay(confirmed, Decimal("1000.00"), secretariat)
    services.disbursement_update(acting_user=secretariat, disbursement=payment, amount=Decimal("999.99"))
    pledge = _fresh(confirmed)
    assert (pledge.status, pledge.disbursed_amount) == (S.DISBURSING, Decimal("999.99"))


def test_update_refuses_other_fields_and_bad_dates(confirmed, secretariat):
    payment = _pay(confirmed, Decimal("10.00"), secretariat)
    with pytest.raises(ValidationError) as excinfo:
        services.disbursement_update(acting_user=secretariat, disbursement=payment, pledge=confirmed)
    assert "pledge" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.disbursement_update(acting_user=secretariat, disbursement=payment, date=date(2023, 12, 31))
    with pytest.raises(ValidationError):
        services.disbursement_update(acting_user=secretariat, disbursement=payment, amount=Decimal("0"))


def test_update_with_a_stale_version_is_a_conflict(confirmed, secretariat):
    payment = _pay(confirmed, Decimal("10.00"), secretariat)
    services.disbursement_update(acting_user=secretariat, disbursement=payment, version=1, reference="A")
    with pytest.raises(ConflictError):
        services.disbursement_update(acting_user=secretariat, disbursement=payment, version=1, reference="B")
    assert Disbursement.objects.get(pk=payment.pk).reference == "A"


def test_deleting_the_only_disbursement_puts_the_pledge_back_to_confirmed(confirmed, secretariat):
    payment = _pay(confirmed, Decimal("1000.00"), secretariat)
    assert _fresh(confirmed).status == S.FULFILLED
    services.disbursement_delete(acting_user=secretariat, disbursement=payment, version=1)
    pledge = _fresh(confirmed)
    assert (pledge.status, pledge.disbursed_amount, pledge.disbursed_eur) == (S.CONFIRMED, 0, 0)
    assert pledge.status_changed_by == secretariat


def test_deleting_one_of_two_disbursements_leaves_it_disbursing(confirmed, secretariat):
    first = _pay(confirmed, Decimal("600.00"), secretariat)
    _pay(confirmed, Decimal("400.00"), secretariat)
    services.disbursement_delete(acting_user=secretariat, disbursement=first)
    pledge = _fresh(confirmed)
    assert (pledge.status, pledge.disbursed_amount) == (S.DISBURSING, Decimal("400.00"))


def test_corrections_to_a_withdrawn_pledges_payments_do_not_revive_it(confirmed, secretariat):
    payment = _pay(confirmed, Decimal("100.00"), secretariat)
    services.pledge_withdraw(acting_user=secretariat, pledge=confirmed)
    services.disbursement_delete(acting_user=secretariat, disbursement=payment)
    pledge = _fresh(confirmed)
    assert (pledge.status, pledge.disbursed_amount) == (S.WITHDRAWN, 0)


# --- Database constraints ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00")])
def test_database_refuses_a_non_positive_disbursement(confirmed, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(pledge=confirmed, amount=amount, date=PAID_ON)
    assert not Disbursement.objects.exists()


def test_database_refuses_a_running_total_above_the_pledge(confirmed):
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=confirmed.pk).update(disbursed_amount=Decimal("1000.01"))
    assert _fresh(confirmed).disbursed_amount == 0


def test_disbursement_str(confirmed):
    payment = _pay(confirmed, Decimal("10.00"))
    assert str(payment) == f"10.00 on 2024-03-01 against pledge {confirmed.pk}"


def test_cents_add_up_exactly(confirmed, secretariat):
    """SQLite sums decimals as floats; the running total must still be exact to the cent."""
    for amount in ("0.10", "0.20", "333.33", "333.33", "333.03"):
        _pay(confirmed, Decimal(amount), secretariat)
    pledge = _fresh(confirmed)
    assert pledge.disbursed_amount == Decimal("999.99")
    assert pledge.disbursed_amount.as_tuple().exponent == -2
    _pay(confirmed, Decimal("0.01"), secretariat)
    assert _fresh(confirmed).status == S.FULFILLED
