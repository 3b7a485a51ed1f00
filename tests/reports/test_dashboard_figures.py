"""The dashboard's figures with known data: headline, every member (zero included), kind and channel,
priority coverage split into confirmed and announced-only, change since the last held meeting, the
oldest unconfirmed pledge's age, and the query count whatever the row count."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contributions import services
from reports import selectors
from tests import factories
from tests.reports.dashboard_data import MEETING_DAY, on, recorded_at

pytestmark = pytest.mark.django_db

D = Decimal


def test_every_member_is_listed_zero_included_with_disbursed_share_and_oldest_unconfirmed_age(coalition, known):
    rows = selectors.member_table(coalition, today=date(2024, 5, 1))
    by_code = {row.code: row for row in rows}
    assert [row.code for row in rows] == ["LU", "EE", "LV"]  # by confirmed, largest first
    ee, lu, lv = by_code["EE"], by_code["LU"], by_code["LV"]
    assert (ee.confirmed_eur, ee.announced_eur, ee.disbursed_eur) == (D("2000000"), D("500000"), D("500000"))
    assert ee.disbursed_share == D("0.25")
    assert ee.oldest_unconfirmed_days == (date(2024, 5, 1) - date(2024, 1, 20)).days == 102
    assert (lu.confirmed_eur, lu.disbursed_eur, lu.disbursed_share) == (D("3000000"), D("300000"), D("0.1"))
    assert lu.oldest_unconfirmed_days == 30
    assert (lv.total_eur, lv.confirmed_eur, lv.disbursed_eur) == (0, 0, 0)
    assert lv.disbursed_share is None and lv.oldest_unconfirmed_days is None
    assert lv.role == "member"


def test_change_since_the_last_meeting_per_member_and_in_total(coalition, known, held_meeting):
    cutoff = selectors.meeting_cutoff(held_meeting)
    rows = {row.code: row for row in selectors.member_table(coalition, as_of=cutoff)}
    assert rows["EE"].since == selectors.SinceMeeting(pledged_eur=0, confirmed_eur=0, disbursed_eur=D("100000"))
    assert rows["LU"].since == selectors.SinceMeeting(
        pledged_eur=D("1000000"), confirmed_eur=D("3000000"), disbursed_eur=D("300000")
    )
    assert rows["LV"].since == selectors.SinceMeeting()
    summary = selectors.coalition_summary(coalition)
    coverage = selectors.priority_coverage(coalition)
    head = selectors.headline(summary, list(rows.values()), coverage, meeting=held_meeting)
    assert head.since == selectors.SinceMeeting(
        pledged_eur=D("1000000"), confirmed_eur=D("3000000"), disbursed_eur=D("400000")
    )
    assert head.meeting_date == MEETING_DAY and head.meeting_title == "Second steering group"
    assert (head.confirmed_eur, head.announced_eur, head.disbursed_eur) == (D("5000000"), D("1500000"), D("800000"))
    assert head.unfunded_eur == D("95000000") and head.disbursed_share == D("0.16")
    assert (head.priorities_uncovered, head.priorities_unfunded_eur) == (1, D("400000"))


def test_the_meeting_cutoff_is_its_recorded_end_or_the_end_of_its_day_in_kyiv(held_meeting):
    assert selectors.meeting_cutoff(held_meeting) == datetime(2024, 3, 1, 22, tzinfo=UTC)  # midnight in Kyiv
    held_meeting.ends_at = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    assert selectors.meeting_cutoff(held_meeting) == held_meeting.ends_at
    assert selectors.meeting_cutoff(None) is None


def _since(coalition, meeting, code):
    rows = {row.code: row for row in selectors.member_table(coalition, as_of=selectors.meeting_cutoff(meeting))}
    return rows[code]


def _recorded(when, function, **arguments):
    with recorded_at(on(when)):
        return function(**arguments)


def test_a_pledge_confirmed_before_the_meeting_and_withdrawn_after_it_is_a_fall(
    coalition, member_a, secretariat, held_meeting
):
    pledge = _recorded(
        date(2024, 2, 1),
        factories.make_pledge,
        coalition=coalition,
        member=member_a,
        amount=D("2000000"),
        announced_on=date(2024, 1, 10),
        status="confirmed",
        confirmed_on=date(2024, 2, 1),
    )
    _recorded(date(2024, 3, 5), services.pledge_withdraw, acting_user=secretariat, pledge=pledge)
    ee = _since(coalition, held_meeting, "EE")
    assert (ee.confirmed_eur, ee.total_eur) == (0, 0)  # nothing counts now
    assert ee.since == selectors.SinceMeeting(pledged_eur=D("-2000000"), confirmed_eur=D("-2000000"))


def test_a_pledge_recorded_before_the_meeting_and_confirmed_after_it_is_a_change_whatever_its_confirmed_on(
    coalition, member_a, secretariat, held_meeting
):
    """The confirmation is recorded on 5 March, dated 20 February: on 1 March the pledge stood
    announced, so the confirmed total has grown since (the dates recorded on the pledge said it had not)."""
    pledge = _recorded(
        date(2024, 2, 1),
        factories.make_pledge,
        coalition=coalition,
        member=member_a,
        amount=D("750000"),
        announced_on=date(2024, 2, 1),
    )
    _recorded(
        date(2024, 3, 5), services.pledge_confirm, acting_user=secretariat, pledge=pledge, on_date=date(2024, 2, 20)
    )
    assert _since(coalition, held_meeting, "EE").since == selectors.SinceMeeting(confirmed_eur=D("750000"))


def test_an_amount_changed_after_the_meeting_counts_the_difference_and_a_payment_what_it_paid(
    coalition, member_a, member_b, secretariat, held_meeting
):
    """EE confirmed 1,000,000 on 1 February, raised to 1,500,000 on 4 March, 200,000 paid on 6 March;
    LU announced 400,000 on 1 March at 18:00 UTC (20:00 in Kyiv, the meeting's day): the meeting's."""
    pledge = _recorded(
        date(2024, 2, 1),
        factories.make_pledge,
        coalition=coalition,
        member=member_a,
        amount=D("1000000"),
        announced_on=date(2024, 1, 15),
        status="confirmed",
        confirmed_on=date(2024, 2, 1),
    )
    pledge = _recorded(
        date(2024, 3, 4),
        services.pledge_update,
        acting_user=secretariat,
        pledge=pledge,
        version=pledge.version,
        amount=D("1500000"),
    )
    _recorded(
        date(2024, 3, 6),
        services.disbursement_record,
        acting_user=secretariat,
        pledge=pledge,
        amount=D("200000"),
        date=date(2024, 3, 6),
    )
    with recorded_at(datetime(2024, 3, 1, 18, tzinfo=UTC)):
        factories.make_pledge(coalition=coalition, member=member_b, amount=D("400000"), announced_on=MEETING_DAY)
    assert _since(coalition, held_meeting, "EE").since == selectors.SinceMeeting(
        pledged_eur=D("500000"), confirmed_eur=D("500000"), disbursed_eur=D("200000")
    )
    assert _since(coalition, held_meeting, "LU").since == selectors.SinceMeeting()
    members = selectors.member_table(coalition, as_of=selectors.meeting_cutoff(held_meeting))
    head = selectors.headline(selectors.coalition_summary(coalition), members, [], meeting=held_meeting)
    assert head.since == selectors.SinceMeeting(
        pledged_eur=D("500000"), confirmed_eur=D("500000"), disbursed_eur=D("200000")
    )


def test_the_figures_as_of_the_meeting_take_the_dashboards_filters_as_they_stood(
    coalition, member_a, secretariat, held_meeting
):
    """A status filter picks the pledges by their status of each moment: confirmed now, announced then."""
    pledge = _recorded(
        date(2024, 2, 1),
        factories.make_pledge,
        coalition=coalition,
        member=member_a,
        amount=D("300000"),
        announced_on=date(2024, 2, 1),
    )
    _recorded(date(2024, 3, 5), services.pledge_confirm, acting_user=secretariat, pledge=pledge)
    cutoff = selectors.meeting_cutoff(held_meeting)
    then = selectors.members_as_of(coalition, cutoff, statuses=["confirmed"])
    assert then == {}
    (ee,) = [row for row in selectors.member_table(coalition, as_of=cutoff, statuses=["confirmed"]) if row.code == "EE"]
    assert ee.since == selectors.SinceMeeting(pledged_eur=D("300000"), confirmed_eur=D("300000"))


def test_without_a_held_meeting_there_is_no_change_to_show(coalition, member_a, pledge_b, secretariat):
    from meetings import services as meeting_services
    from meetings.selectors import last_and_next_meeting
    from reports.views import figures_for

    meeting_services.meeting_create(  # planned, never marked held
        acting_user=secretariat, coalition=coalition, title="Planned", starts_at=datetime(2024, 3, 1, 10, tzinfo=UTC)
    )
    last_meeting, _next = last_and_next_meeting(coalition)
    assert last_meeting is None
    figures = figures_for(coalition, last_meeting)
    assert all(row.since is None for row in figures.members)
    assert figures.headline.since is None and figures.headline.meeting_date is None


def test_priority_coverage_keeps_announced_money_apart(coalition, known):
    rows = {row.title: row for row in selectors.priority_coverage(coalition)}
    servers = rows["Servers"]
    assert (servers.confirmed_eur, servers.announced_eur) == (D("600000"), D("300000"))
    assert (servers.confirmed_coverage, servers.announced_coverage) == (D("0.6"), D("0.3"))
    assert servers.unfunded_eur == D("400000")  # the announced 300,000 does not cover it
    licences = rows["Licences"]
    assert (licences.confirmed_coverage, licences.announced_coverage, licences.unfunded_eur) == (1, 0, 0)


def test_kind_and_channel_split_lists_every_choice(coalition, known):
    split = selectors.breakdowns(coalition)
    kind = {row.value: row for row in split["kind"]}
    assert (kind["financial"].count, kind["financial"].total_eur) == (2, D("3000000"))
    assert (kind["in_kind"].count, kind["in_kind"].total_eur, kind["in_kind"].confirmed_eur) == (
        2,
        D("3500000"),
        D("3000000"),
    )
    assert kind["financial"].share == D("0.4615")
    channel = {row.value: row.total_eur for row in split["channel"]}
    assert channel == {
        "bilateral": D("2000000"),
        "trust_fund": D("3500000"),
        "procurement_agency": D("1000000"),
        "other": 0,
    }


def test_data_as_of_is_the_newest_change(coalition, known, secretariat):
    before = selectors.data_as_of(coalition)
    assert before is not None and before <= timezone.now()
    services.priority_update(
        acting_user=secretariat, priority=known["licences"], version=known["licences"].version, category="Software"
    )
    after = selectors.data_as_of(coalition)
    assert after > before


def test_the_dashboard_shows_the_headline_before_the_filters(client, steering, coalition, known):
    client.force_login(steering)
    body = client.get(reverse("reports:dashboard", args=[coalition.slug])).content.decode()
    assert body.index('data-figure="confirmed"') < body.index("Filter the figures")
    assert "5.0\xa0M EUR" in body and "Data as of" in body and "How this is counted" in body
    assert "Since the last meeting (Second steering group, 1 March 2024)" in body
    assert '<tr data-member="LV">' in body  # the member without pledges
    oldest = (timezone.localdate() - date(2024, 1, 20)).days
    assert f'<td class="num" data-value="oldest">{oldest}</td>' in body
    assert '<td class="num" data-value="confirmed-since">+3,000,000.00</td>' in body
    assert '<tr data-member="EE">' in body and '<td class="num" data-value="confirmed-since">0.00</td>' in body
    assert "+3.0\xa0M EUR" in body and "+1.0\xa0M EUR pledged, +400\xa0k EUR paid" in body


def test_the_member_export_has_every_member_and_the_new_columns(client, steering, coalition, known):
    import csv
    import io

    client.force_login(steering)
    response = client.get(f"/coalitions/{coalition.slug}/export/members.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][7:9] == ["Disbursed share of confirmed", "Oldest unconfirmed pledge (days)"]
    assert [row[1] for row in rows[1:]] == ["LU", "EE", "LV"]
    assert rows[1][9:] == ["3000000.00", "1000000.00", "300000.00"]
    for table in ("kind", "channel"):
        assert client.get(f"/coalitions/{coalition.slug}/export/{table}.csv").status_code == 200


def _bulk(coalition, members, count, start):
    """Pledges inserted past the services, then the totals rebuilt from them (as after a bulk load)."""
    from contributions import aggregates
    from contributions.models import Pledge

    statuses = ("announced", "confirmed", "disbursing", "fulfilled", "withdrawn")
    published = timezone.now()
    Pledge.objects.bulk_create(
        Pledge(
            coalition=coalition,
            member=members[i % len(members)],
            title=f"Bulk {i}",
            amount=D(1000 + i),
            currency="EUR",
            amount_eur=D(1000 + i),
            exchange_rate=D(1),
            exchange_rate_date=date(2023, 1, 1),
            exchange_rate_source="EUR",
            status=statuses[i % 5],
            kind=("financial", "in_kind")[i % 2],
            channel=("bilateral", "trust_fund", "other")[i % 3],
            announced_on=date(2023, 1, 1) + timedelta(days=i % 700),
            confirmed_on=date(2023, 6, 1) + timedelta(days=i % 500) if statuses[i % 5] != "announced" else None,
            published_at=published,
        )
        for i in range(start, start + count)
    )
    aggregates.rebuild([coalition.pk])


def _queries(client, url, coalition):
    """The queries of a view whose cached figures were just invalidated (a miss), then of the next
    view (a hit)."""
    from coalition import stamps

    stamps.bump([coalition.pk])
    counts = []
    for _miss_then_hit in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    return tuple(counts)


def test_the_dashboard_runs_the_same_queries_for_1_and_50_rows(client, secretariat, coalition, known):
    """25 queries with a held meeting: the 17 from before issue 10 (session, user, seats, coalition,
    last and next meeting, the summary's five, coalitions, the last meeting's decisions, action items,
    three of recent changes), plus eight: held meetings (the time chart), the member table's four
    (totals by member, the oldest pledge awaiting confirmation, the pledges' history as of the
    meeting, seats), kind and channel (one query), the coverage split, data as of. The history as of
    a meeting long past is kept once read: every later miss runs 24."""
    client.force_login(secretariat)
    url = reverse("reports:dashboard", args=[coalition.slug])
    client.get(url)  # the first request after sign-in writes the session
    cache.clear()  # nothing kept: the history as of the meeting is read too
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == 25
    members = [factories.MemberFactory(code=f"X{i}", name=f"Member {i}") for i in range(3)]
    for member in members:
        factories.MembershipFactory(member=member, coalition=coalition)
    _bulk(coalition, members, 1, 0)
    one = _queries(client, url, coalition)
    _bulk(coalition, members, 49, 1)
    more = [factories.MemberFactory(code=f"Y{i}", name=f"More {i}") for i in range(20)]
    for member in more:
        factories.MembershipFactory(member=member, coalition=coalition)
    fifty = _queries(client, url, coalition)
    # A miss: 24 (the change stamp is one more, the totals give both month series in one query less);
    # a hit: 10, no figure read (session, user, seats, coalition, meetings, stamp, coalitions, decisions,
    # action items, the stamp of recent changes).
    assert one == fifty == (24, 10)
