"""A coalition's published money as an IATI activity file, version 2.03 (the International Aid
Transparency Initiative's activity standard): one ``iati-activity`` per priority purchase and one for
the money not allocated to any, the members as funding organisations, a commitment (transaction type 2)
per confirmed pledge and a disbursement (type 3) per disbursement, each in its original currency with
its value date.

Built with lxml in the order the standard's schema (``iati-activities-schema.xsd`` 2.03) declares the
elements; the codes are those of IATI's codelists named beside each constant. Only published records
are read (the visibility layer's ``published()``), the same pledges the summary counts.

A pledge split by allocations is reported in each activity it funds: the allocated EUR share of its
original amount (at the pledge's own recorded rate) goes to that priority's activity and the rest to
the unallocated one; the parts are rounded to the cent and the last part takes the remainder, so a
pledge's parts always add up to its original amount exactly. Its disbursements are split by the same
shares.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone
from lxml import etree

from coalition.models import Coalition, Member
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from reports.public import data_as_of, with_changes

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CENT = Decimal("0.01")

#: TransactionType codelist.
COMMITMENT, DISBURSEMENT = "2", "3"
#: OrganisationRole codelist: 1 Funding, 2 Accountable.
FUNDING, ACCOUNTABLE = "1", "2"
#: OrganisationType codelist: 10 Government, 40 Multilateral.
ORGANISATION_TYPE = {Member.Kind.COUNTRY: "10", Member.Kind.ORGANISATION: "40"}
#: ActivityStatus codelist: 1 Pipeline/identification, 2 Implementation, 3 Finalisation, 5 Cancelled.
ACTIVITY_STATUS = {
    PriorityPurchase.Status.PROPOSED: "1",
    PriorityPurchase.Status.APPROVED: "2",
    PriorityPurchase.Status.IN_PROCUREMENT: "2",
    PriorityPurchase.Status.CONTRACTED: "2",
    PriorityPurchase.Status.DELIVERED: "3",
    PriorityPurchase.Status.DROPPED: "5",
}
IMPLEMENTATION = "2"
#: ActivityDateType codelist: 2 Actual start, 3 Planned end.
ACTUAL_START, PLANNED_END = "2", "3"
#: DescriptionType codelist: 1 General.
GENERAL = "1"


@dataclass
class Transaction:
    kind: str
    ref: str
    date: object
    value: Decimal
    currency: str
    value_date: object
    member_id: int
    description: str


def reporting_org_ref(coalition):
    """The reporting organisation's identifier: ``IATI_REPORTING_ORG_REF`` once the coalition's
    secretariat has one registered, otherwise a placeholder naming the coalition."""
    return getattr(settings, "IATI_REPORTING_ORG_REF", "") or f"XI-COALITION-{coalition.slug.upper()}"


def _split(amount, shares):
    """``amount`` in parts proportional to ``shares`` (fractions summing to at most 1; the rest is the
    last part), each rounded to the cent, the last one taking the rounding remainder."""
    parts, given = [], Decimal(0)
    for share in shares:
        part = (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)
        parts.append(part)
        given += part
    parts.append(amount - given)
    return parts


def _narrative(parent, text):
    etree.SubElement(parent, "narrative").text = text


def _org(parent, tag, member, **attributes):
    element = etree.SubElement(parent, tag, **attributes)
    if member.iati_identifier:
        element.set("ref", member.iati_identifier)
    element.set("type", ORGANISATION_TYPE.get(member.kind, "40"))
    _narrative(element, member.name)
    return element


def _transactions(coalition):
    """Every activity's transactions (None: the unallocated money), from the published records."""
    pledges = list(
        Pledge.objects.published()
        .filter(coalition=coalition, status__in=Pledge.CONFIRMED_STATUSES)
        .values(
            "pk",
            "title",
            "member_id",
            "amount",
            "currency",
            "amount_eur",
            "exchange_rate_date",
            "confirmed_on",
            "announced_on",
        )
        .order_by("pk")
    )
    allocations = defaultdict(list)
    for row in (
        Allocation.objects.published()
        .filter(pledge__coalition=coalition, pledge__status__in=Pledge.CONFIRMED_STATUSES)
        .values("pledge_id", "priority_id", "amount_eur")
        .order_by("pledge_id", "priority_id")
    ):
        allocations[row["pledge_id"]].append((row["priority_id"], row["amount_eur"]))
    disbursements = defaultdict(list)
    for row in (
        Disbursement.objects.published()
        .filter(pledge__coalition=coalition, pledge__status__in=Pledge.CONFIRMED_STATUSES)
        .values("pk", "pledge_id", "amount", "date")
        .order_by("date", "pk")
    ):
        disbursements[row["pledge_id"]].append(row)

    by_activity = defaultdict(list)
    for pledge in pledges:
        parts = allocations.get(pledge["pk"], [])
        activities = [priority_id for priority_id, _eur in parts] + [None]
        total_eur = pledge["amount_eur"]
        shares = [min(eur / total_eur, Decimal(1)) if total_eur else Decimal(0) for _pid, eur in parts]
        ref = f"pledge-{pledge['pk']}"
        for activity, value in zip(activities, _split(pledge["amount"], shares), strict=True):
            if value:
                by_activity[activity].append(
                    Transaction(
                        kind=COMMITMENT,
                        ref=ref,
                        date=pledge["confirmed_on"] or pledge["announced_on"],
                        value=value,
                        currency=pledge["currency"],
                        value_date=pledge["exchange_rate_date"],
                        member_id=pledge["member_id"],
                        description=pledge["title"],
                    )
                )
        for disbursement in disbursements.get(pledge["pk"], []):
            for activity, value in zip(activities, _split(disbursement["amount"], shares), strict=True):
                if value:
                    by_activity[activity].append(
                        Transaction(
                            kind=DISBURSEMENT,
                            ref=f"disbursement-{disbursement['pk']}",
                            date=disbursement["date"],
                            value=value,
                            currency=pledge["currency"],
                            value_date=disbursement["date"],
                            member_id=pledge["member_id"],
                            description=pledge["title"],
                        )
                    )
    return by_activity


def _activity(root, *, identifier, reporting, coalition, title, description, status, transactions, members, end):
    activity = etree.SubElement(
        root,
        "iati-activity",
        {XML_LANG: "en", "default-currency": "EUR", "last-updated-datetime": root.get("generated-datetime")},
    )
    etree.SubElement(activity, "iati-identifier").text = identifier
    org = etree.SubElement(activity, "reporting-org", ref=reporting, type="10")
    _narrative(org, coalition.name)
    _narrative(etree.SubElement(activity, "title"), title)
    _narrative(etree.SubElement(activity, "description", type=GENERAL), description)
    funders = sorted({t.member_id for t in transactions}, key=lambda pk: members[pk].name)
    accountable = etree.SubElement(activity, "participating-org", ref=reporting, role=ACCOUNTABLE, type="10")
    _narrative(accountable, coalition.name)
    for member_id in funders:
        _org(activity, "participating-org", members[member_id], role=FUNDING)
    etree.SubElement(activity, "activity-status", code=status)
    dates = [t.date for t in transactions] or [timezone.localdate(coalition.created_at)]
    etree.SubElement(activity, "activity-date", type=ACTUAL_START, **{"iso-date": min(dates).isoformat()})
    if end:
        etree.SubElement(activity, "activity-date", type=PLANNED_END, **{"iso-date": end.isoformat()})
    for item in sorted(transactions, key=lambda t: (t.date, t.kind, t.ref)):
        transaction = etree.SubElement(activity, "transaction", ref=item.ref)
        etree.SubElement(transaction, "transaction-type", code=item.kind)
        etree.SubElement(transaction, "transaction-date", **{"iso-date": item.date.isoformat()})
        value = etree.SubElement(
            transaction, "value", currency=item.currency, **{"value-date": item.value_date.isoformat()}
        )
        value.text = str(item.value.quantize(CENT))
        _narrative(etree.SubElement(transaction, "description"), item.description)
        _org(transaction, "provider-org", members[item.member_id])


def build(coalition):
    """The ``iati-activities`` document (an lxml element tree) of ``coalition``'s published money.

    Its ``generated-datetime`` is the moment of the newest change it reflects, so the same data give
    the same bytes (and the API's ETag answers 304 until something changes)."""
    as_of = data_as_of(with_changes(Coalition.objects.filter(pk=coalition.pk)).get())
    stamp = timezone.localtime(as_of).replace(microsecond=0).isoformat()
    root = etree.Element("iati-activities", version=VERSION, **{"generated-datetime": stamp})
    reporting = reporting_org_ref(coalition)
    by_activity = _transactions(coalition)
    members = {m.pk: m for m in Member.objects.filter(memberships__coalition=coalition).distinct()}
    for priority in PriorityPurchase.objects.filter(coalition=coalition).order_by("rank", "pk"):
        _activity(
            root,
            identifier=f"{reporting}-{coalition.slug}-priority-{priority.pk}",
            reporting=reporting,
            coalition=coalition,
            title=priority.title,
            description=priority.description
            or f"Priority purchase #{priority.rank} of {coalition.name}: estimated {priority.estimated_cost_eur} EUR.",
            status=ACTIVITY_STATUS.get(priority.status, IMPLEMENTATION),
            transactions=by_activity.get(priority.pk, []),
            members=members,
            end=priority.target_date,
        )
    _activity(
        root,
        identifier=f"{reporting}-{coalition.slug}-unallocated",
        reporting=reporting,
        coalition=coalition,
        title=f"{coalition.name}: confirmed pledges not yet allocated to a priority purchase",
        description=f"The part of each confirmed pledge to {coalition.name} not earmarked for a priority purchase.",
        status=IMPLEMENTATION,
        transactions=by_activity.get(None, []),
        members=members,
        end=None,
    )
    return etree.ElementTree(root)


def to_bytes(coalition):
    """The document as UTF-8 XML bytes, with its declaration."""
    return etree.tostring(build(coalition), xml_declaration=True, encoding="utf-8", pretty_print=True)
