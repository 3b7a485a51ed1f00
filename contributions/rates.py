"""EUR conversion at the ECB reference rate of a date (or the last one published before it)."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contributions import rules
from contributions.currencies import is_currency

CENT = Decimal("0.01")
#: How far back a published rate may be used (weekends, holidays, the ECB's closing days).
MAX_RATE_AGE = timedelta(days=14)
EUR = "EUR"


@dataclass(frozen=True)
class Conversion:
    """An amount's EUR value with the rate (units per EUR), the rate's date and its source."""

    amount_eur: Decimal
    rate: Decimal
    rate_date: date
    source: str


def to_eur(amount, rate):
    """``amount`` in a currency quoted at ``rate`` units per EUR, rounded half up to the cent."""
    return (Decimal(amount) / Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def part_in_eur(part, *, whole, whole_eur, rate):
    """The EUR value of ``part`` of an amount ``whole`` worth ``whole_eur`` at ``rate``.

    The whole is worth exactly its stored EUR value, so a fully disbursed pledge's parts add up to it
    whatever the rounding of each part.
    """
    if part == whole:
        return whole_eur
    return min(to_eur(part, rate), whole_eur)


def published_rate(currency, on_date):
    """The ExchangeRate of ``on_date`` or the last one published within MAX_RATE_AGE before it."""
    from contributions.models import ExchangeRate

    return (
        ExchangeRate.objects.filter(currency=currency, date__lte=on_date, date__gte=on_date - MAX_RATE_AGE)
        .order_by("-date")
        .first()
    )


class RateCache:
    """published_rate answered from memory: the rates of ``currencies`` between two dates, read in one
    query, with the same rule (the rate of the date or the last within MAX_RATE_AGE before it)."""

    def __init__(self, currencies, date_from, date_to):
        from contributions.models import ExchangeRate

        self._rates = {}
        rows = ExchangeRate.objects.filter(
            currency__in=set(currencies), date__gte=date_from - MAX_RATE_AGE, date__lte=date_to
        ).order_by("currency", "date")
        for row in rows:
            self._rates.setdefault(row.currency, []).append(row)
        self._dates = {currency: [row.date for row in rows] for currency, rows in self._rates.items()}

    def __call__(self, currency, on_date):
        dates = self._dates.get(currency)
        if not dates:
            return None
        index = bisect_right(dates, on_date) - 1
        if index < 0 or dates[index] < on_date - MAX_RATE_AGE:
            return None
        return self._rates[currency][index]


def convert(*, amount, currency, on_date, explicit_rate=None, explicit_source="", rate_lookup=None):
    """Convert ``amount`` of ``currency`` to EUR as of ``on_date``.

    The ECB rate wins when one is published; an explicit rate (with its source) is accepted only for
    a currency and date the ECB has no rate for. Raises ValidationError naming the currency and date
    when neither is available. ``rate_lookup`` replaces published_rate (same contract), so a bulk
    import can answer from rates it read once (RateCache).
    """
    if isinstance(amount, float) or isinstance(explicit_rate, float):
        raise TypeError("Money is Decimal, never float.")
    if not is_currency(currency):
        raise ValidationError({"currency": _("%(code)s is not an ISO 4217 currency code.") % {"code": currency}})
    if currency == EUR:
        return Conversion(amount_eur=Decimal(amount).quantize(CENT), rate=Decimal(1), rate_date=on_date, source=EUR)
    published = (rate_lookup or published_rate)(currency, on_date)
    if published is not None:
        if explicit_rate is not None and Decimal(explicit_rate) != published.rate:
            raise ValidationError(
                {
                    "exchange_rate": _(
                        "The ECB published %(rate)s %(code)s per EUR on %(date)s; leave the rate empty "
                        "to use it (an explicit rate is only for currencies the ECB does not publish)."
                    )
                    % {"rate": published.rate, "code": currency, "date": published.date.isoformat()}
                }
            )
        return Conversion(
            amount_eur=to_eur(amount, published.rate),
            rate=published.rate,
            rate_date=published.date,
            source=published.source,
        )
    if explicit_rate is None:
        raise ValidationError(
            {
                "exchange_rate": _(
                    "There is no ECB rate for %(code)s on %(date)s or in the %(days)s days before it. "
                    "Give the rate (units of %(code)s per EUR) and its source."
                )
                % {"code": currency, "date": on_date.isoformat(), "days": MAX_RATE_AGE.days}
            }
        )
    explicit_rate = Decimal(explicit_rate)
    problem = rules.rate_problem(explicit_rate)
    if problem:
        raise ValidationError({"exchange_rate": problem})
    if not explicit_source.strip():
        raise ValidationError(
            {"exchange_rate_source": _("Say where the rate for %(code)s comes from.") % {"code": currency}}
        )
    return Conversion(
        amount_eur=to_eur(amount, explicit_rate), rate=explicit_rate, rate_date=on_date, source=explicit_source.strip()
    )
