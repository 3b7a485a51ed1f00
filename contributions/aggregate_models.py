"""Totals kept up to date by the write services (contributions.aggregates), so the dashboard, the
summary endpoint and the digest read a few rows instead of scanning every pledge. Only published
pledges are counted (the visibility layer's ``published()``): the same rows for every reader."""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 18, "decimal_places": 2, "default": 0}


class PledgeTotal(models.Model):
    """Published pledges of a coalition by member, status, kind, channel and currency of record."""

    coalition = models.ForeignKey("coalition.Coalition", models.CASCADE, related_name="+")
    member = models.ForeignKey("coalition.Member", models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    channel = models.CharField(max_length=24)
    currency = models.CharField(max_length=3)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    amount_eur = models.DecimalField(**MONEY)
    disbursed_amount = models.DecimalField(**MONEY)
    disbursed_eur = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("pledge total")
        verbose_name_plural = _("pledge totals")
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "member", "status", "kind", "channel", "currency"], name="pledge_total_key"
            )
        ]

    def __str__(self):
        return f"{self.coalition_id}/{self.member_id}/{self.status}: {self.amount_eur} EUR"


class PledgeMonthTotal(models.Model):
    """Published pledges of a coalition by status and month, once by the month they were announced
    in and once (those with a date) by the month they were confirmed in."""

    class Basis(models.TextChoices):
        ANNOUNCED = "announced", _("announced")
        CONFIRMED = "confirmed", _("confirmed")

    coalition = models.ForeignKey("coalition.Coalition", models.CASCADE, related_name="+")
    basis = models.CharField(max_length=10, choices=Basis.choices)
    month = models.DateField()
    status = models.CharField(max_length=16)
    count = models.BigIntegerField(default=0)
    amount_eur = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("pledge month total")
        verbose_name_plural = _("pledge month totals")
        constraints = [
            models.UniqueConstraint(fields=["coalition", "basis", "month", "status"], name="pledge_month_total_key")
        ]

    def __str__(self):
        return f"{self.coalition_id}/{self.basis}/{self.month}/{self.status}: {self.amount_eur} EUR"


class PriorityTotal(models.Model):
    """What is allocated to a priority purchase, by the status of the pledges it comes from (so
    confirmed money and announced-only money are told apart)."""

    coalition = models.ForeignKey("coalition.Coalition", models.CASCADE, related_name="+")
    priority = models.ForeignKey("contributions.PriorityPurchase", models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    count = models.BigIntegerField(default=0)
    amount_eur = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("priority total")
        verbose_name_plural = _("priority totals")
        constraints = [models.UniqueConstraint(fields=["coalition", "priority", "status"], name="priority_total_key")]

    def __str__(self):
        return f"{self.priority_id}/{self.status}: {self.amount_eur} EUR"
