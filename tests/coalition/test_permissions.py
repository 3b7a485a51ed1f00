"""Every role against every service, from one expectation table; and what each role may see.

The matrix runs each service as each persona on fresh data. An allowed call must succeed and change
something; a refused one must raise PermissionDenied and change nothing.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from coalition import permissions
from coalition import services as coalition_services
from coalition.models import Coalition, Member
from contributions import services as pledge_services
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings import services as meeting_services
from meetings.models import ActionItem, AgendaItem, Attendance, Decision, Meeting
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = (
    "secretariat",
    "editor_a",
    "editor_b",
    "steering",
    "partner",
    "outsider",
    "admin_user",
    "other_secretariat",
)
OWN_A = frozenset({"secretariat", "editor_a", "admin_user"})
OWN_B = frozenset({"secretariat", "editor_b", "admin_user"})
MANAGE = frozenset({"secretariat", "admin_user"})

#: Who may call each service. Pledge services act on a pledge of member A unless the name says B.
EXPECTED = {
    "pledge_create_member_a": OWN_A,
    "pledge_create_member_b": OWN_B,
    "pledge_update": OWN_A,
    "pledge_update_member_b": OWN_B,
    "pledge_announce": OWN_A,
    "pledge_confirm": OWN_A,
    "pledge_withdraw": OWN_A,
    "pledge_delete": OWN_A,
    "disbursement_record": OWN_A,
    "disbursement_record_member_b": OWN_B,
    "disbursement_update": OWN_A,
    "disbursement_delete": OWN_A,
    "allocation_set": MANAGE,
    "allocation_delete": MANAGE,
    "priority_create": MANAGE,
    "priority_update": MANAGE,
    "priority_transition": MANAGE,
    "priority_rerank": MANAGE,
    "priority_delete": MANAGE,
    "meeting_create": MANAGE,
    "meeting_update": MANAGE,
    "meeting_mark_held": MANAGE,
    "meeting_cancel": MANAGE,
    "meeting_delete": MANAGE,
    "attendance_set": MANAGE,
    "agenda_item_add": MANAGE,
    "decision_record": MANAGE,
    "decision_link": MANAGE,
    "action_item_add": MANAGE,
    "action_item_update": MANAGE,
    "action_item_delete": MANAGE,
    "membership_set": MANAGE,
    "coalition_update": MANAGE,
}


class World:
    """The records every call acts on, created by the system (acting_user=None)."""

    def __init__(self, coalition, member_a, member_b):
        self.coalition, self.member_a, self.member_b = coalition, member_a, member_b
        self.pledge_a = factories.make_pledge(coalition=coalition, member=member_a, status="announced")
        self.pledge_b = factories.make_pledge(coalition=coalition, member=member_b, status="announced")
        self.confirmed_a = factories.make_pledge(
            coalition=coalition, member=member_a, status="confirmed", amount=Decimal("1000.00")
        )
        self.confirmed_b = factories.make_pledge(
            coalition=coalition, member=member_b, status="confirmed", amount=Decimal("1000.00")
        )
        self.disbursement_a = pledge_services.disbursement_record(
            acting_user=None, pledge=self.confirmed_a, amount=Decimal("100.00"), date=date(2024, 3, 1)
        )
        self.servers = pledge_services.priority_create(
            acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("5000.00")
        )
        self.laptops = pledge_services.priority_create(
            acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
        )
        self.allocation = pledge_services.allocation_set(
            acting_user=None, pledge=self.confirmed_a, priority=self.servers, amount_eur=Decimal("100.00")
        )
        self.meeting = meeting_services.meeting_create(
            acting_user=None, coalition=coalition, title="Steering group", starts_at=timezone.now() - timedelta(days=1)
        )
        self.decision = meeting_services.decision_record(acting_user=None, meeting=self.meeting, text="Agreed")
        self.action_item = meeting_services.action_item_add(acting_user=None, meeting=self.meeting, text="Follow up")
        self.newcomer = factories.MemberFactory(code="DK", name="Denmark")
        self.draft_a = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
        self.mistake = meeting_services.meeting_create(
            acting_user=None, coalition=coalition, title="Mistake", starts_at=timezone.now() + timedelta(days=9)
        )

    def fingerprint(self):
        """Row counts and versions of everything the services write: any write changes it."""
        versioned = (Pledge, Disbursement, Allocation, PriorityPurchase, Meeting, ActionItem)
        counted = (Attendance, AgendaItem, Decision, Decision.pledges.through)
        return (
            tuple(tuple(model.objects.order_by("pk").values_list("pk", "version")) for model in versioned),
            tuple(model.objects.count() for model in counted),
            self.coalition.memberships.count(),
            type(self.coalition).objects.get(pk=self.coalition.pk).description,
        )


def _snapshot(world):
    return world.fingerprint()


CALLS = {
    "pledge_create_member_a": lambda u, w: pledge_services.pledge_create(
        acting_user=u,
        coalition=w.coalition,
        member=w.member_a,
        title="New",
        amount=Decimal("1.00"),
        currency="EUR",
        announced_on=date(2024, 2, 2),
    ),
    "pledge_create_member_b": lambda u, w: pledge_services.pledge_create(
        acting_user=u,
        coalition=w.coalition,
        member=w.member_b,
        title="New",
        amount=Decimal("1.00"),
        currency="EUR",
        announced_on=date(2024, 2, 2),
    ),
    "pledge_update": lambda u, w: pledge_services.pledge_update(acting_user=u, pledge=w.pledge_a, title="Changed"),
    "pledge_update_member_b": lambda u, w: pledge_services.pledge_update(
        acting_user=u, pledge=w.pledge_b, title="Changed"
    ),
    "pledge_announce": lambda u, w: pledge_services.pledge_announce(acting_user=u, pledge=w.draft_a),
    "pledge_confirm": lambda u, w: pledge_services.pledge_confirm(acting_user=u, pledge=w.pledge_a),
    "pledge_withdraw": lambda u, w: pledge_services.pledge_withdraw(acting_user=u, pledge=w.pledge_a),
    "pledge_delete": lambda u, w: pledge_services.pledge_delete(acting_user=u, pledge=w.pledge_a),
    "disbursement_record": lambda u, w: pledge_services.disbursement_record(
        acting_user=u, pledge=w.confirmed_a, amount=Decimal("1.00"), date=date(2024, 3, 2)
    ),
    "disbursement_record_member_b": lambda u, w: pledge_services.disbursement_record(
        acting_user=u, pledge=w.confirmed_b, amount=Decimal("1.00"), date=date(2024, 3, 2)
    ),
    "disbursement_update": lambda u, w: pledge_services.disbursement_update(
        acting_user=u, disbursement=w.disbursement_a, reference="TX-2"
    ),
    "disbursement_delete": lambda u, w: pledge_services.disbursement_delete(
        acting_user=u, disbursement=w.disbursement_a
    ),
    "allocation_set": lambda u, w: pledge_services.allocation_set(
        acting_user=u, pledge=w.confirmed_a, priority=w.laptops, amount_eur=Decimal("1.00")
    ),
    "allocation_delete": lambda u, w: pledge_services.allocation_delete(acting_user=u, allocation=w.allocation),
    "priority_create": lambda u, w: pledge_services.priority_create(
        acting_user=u, coalition=w.coalition, title="Radios", estimated_cost_eur=Decimal("1.00")
    ),
    "priority_update": lambda u, w: pledge_services.priority_update(acting_user=u, priority=w.servers, category="IT"),
    "priority_transition": lambda u, w: pledge_services.priority_transition(
        acting_user=u, priority=w.servers, to_status="approved"
    ),
    "priority_rerank": lambda u, w: pledge_services.priority_rerank(
        acting_user=u, coalition=w.coalition, ordered_ids=[w.laptops.pk, w.servers.pk]
    ),
    "priority_delete": lambda u, w: pledge_services.priority_delete(acting_user=u, priority=w.laptops),
    "meeting_create": lambda u, w: meeting_services.meeting_create(
        acting_user=u, coalition=w.coalition, title="Expert group", starts_at=timezone.now()
    ),
    "meeting_update": lambda u, w: meeting_services.meeting_update(acting_user=u, meeting=w.meeting, location="Riga"),
    "meeting_mark_held": lambda u, w: meeting_services.meeting_mark_held(acting_user=u, meeting=w.meeting),
    "meeting_cancel": lambda u, w: meeting_services.meeting_cancel(acting_user=u, meeting=w.meeting),
    "meeting_delete": lambda u, w: meeting_services.meeting_delete(acting_user=u, meeting=w.mistake),
    "attendance_set": lambda u, w: meeting_services.attendance_set(
        acting_user=u, meeting=w.meeting, member=w.member_a, status="present"
    ),
    "agenda_item_add": lambda u, w: meeting_services.agenda_item_add(acting_user=u, meeting=w.meeting, title="Opening"),
    "decision_record": lambda u, w: meeting_services.decision_record(
        acting_user=u, meeting=w.meeting, text="Priorities set"
    ),
    "decision_link": lambda u, w: pledge_services.decision_link(
        acting_user=u, decision=w.decision, pledges=[w.pledge_a]
    ),
    "action_item_add": lambda u, w: meeting_services.action_item_add(acting_user=u, meeting=w.meeting, text="Buy"),
    "action_item_update": lambda u, w: meeting_services.action_item_update(
        acting_user=u, action_item=w.action_item, status="done"
    ),
    "action_item_delete": lambda u, w: meeting_services.action_item_delete(acting_user=u, action_item=w.action_item),
    "membership_set": lambda u, w: coalition_services.membership_set(
        acting_user=u, coalition=w.coalition, member=w.newcomer
    ),
    "coalition_update": lambda u, w: coalition_services.coalition_update(
        acting_user=u, coalition=w.coalition, description="Changed"
    ),
}


def test_the_table_covers_every_call():
    assert set(CALLS) == set(EXPECTED)


@pytest.fixture
def other_secretariat(other_coalition):
    return factories.persona("other_secretariat", "secretariat", coalitions=[other_coalition])


@pytest.fixture
def world(coalition, member_a, member_b, other_coalition):
    return World(coalition, member_a, member_b)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", sorted(EXPECTED))
def test_permission_matrix(request, world, call, role):
    user = request.getfixturevalue(role)
    before = _snapshot(world)
    if role in EXPECTED[call]:
        CALLS[call](user, world)
        assert _snapshot(world) != before, f"{call} as {role} was allowed but wrote nothing"
    else:
        with pytest.raises(PermissionDenied):
            CALLS[call](user, world)
        assert _snapshot(world) == before, f"{call} as {role} was refused but something changed"


def test_the_system_may_do_everything(world):
    for name in ("pledge_update", "allocation_set", "priority_create", "meeting_mark_held", "membership_set"):
        before = _snapshot(world)
        CALLS[name](None, world)
        assert _snapshot(world) != before


# --- What each role sees -------------------------------------------------------------------------


@pytest.fixture
def pledges(coalition, other_coalition, member_a, member_b):
    france = factories.MemberFactory(code="FR", name="France")
    factories.MembershipFactory(member=france, coalition=other_coalition)
    return {
        "draft_a": factories.make_pledge(coalition=coalition, member=member_a, status="draft", title="draft A"),
        "draft_b": factories.make_pledge(coalition=coalition, member=member_b, status="draft", title="draft B"),
        "announced_a": factories.make_pledge(coalition=coalition, member=member_a, status="announced", title="A"),
        "confirmed_b": factories.make_pledge(coalition=coalition, member=member_b, status="confirmed", title="B"),
        "other": factories.make_pledge(coalition=other_coalition, member=france, status="announced", title="FR"),
        "other_draft": factories.make_pledge(coalition=other_coalition, member=france, status="draft", title="FR d"),
    }


VISIBLE = {
    "secretariat": {"draft_a", "draft_b", "announced_a", "confirmed_b"},
    "editor_a": {"draft_a", "announced_a", "confirmed_b"},
    "editor_b": {"draft_b", "announced_a", "confirmed_b"},
    "steering": {"announced_a", "confirmed_b"},
    "partner": {"announced_a", "confirmed_b"},
    "outsider": set(),
    "other_secretariat": {"other", "other_draft"},
    "admin_user": {"draft_a", "draft_b", "announced_a", "confirmed_b", "other", "other_draft"},
}


@pytest.mark.parametrize("role", ROLES)
def test_visible_pledges(request, pledges, role):
    user = request.getfixturevalue(role)
    names = {pledge.pk: name for name, pledge in pledges.items()}
    seen = {names[pk] for pk in Pledge.objects.visible_to(user).values_list("pk", flat=True)}
    assert seen == VISIBLE[role]
    for name, pledge in pledges.items():
        assert permissions.can_view(user, pledge) == (name in VISIBLE[role]), name


def test_visible_to_narrows_a_given_queryset(pledges, editor_a):
    queryset = Pledge.objects.filter(member__code="EE")
    assert set(queryset.visible_to(editor_a)) == {pledges["draft_a"], pledges["announced_a"]}


def test_anonymous_sees_nothing(pledges):
    from django.contrib.auth.models import AnonymousUser

    assert not Pledge.objects.visible_to(AnonymousUser()).exists()
    assert not permissions.can_view(AnonymousUser(), pledges["announced_a"])


@pytest.mark.parametrize(
    ("role", "pledge"),
    [
        ("editor_b", "draft_a"),
        ("steering", "draft_a"),
        ("partner", "draft_b"),
        ("outsider", "announced_a"),
        ("other_secretariat", "announced_a"),
        ("secretariat", "other"),
    ],
)
def test_get_visible_hides_what_the_user_may_not_see(request, pledges, role, pledge):
    with pytest.raises(Http404):
        permissions.get_visible(Pledge.objects.all(), request.getfixturevalue(role), pk=pledges[pledge].pk)


@pytest.mark.parametrize("pk", ["abc", None, "", 999999])
def test_get_visible_with_a_bad_id_is_404(secretariat, pk):
    with pytest.raises(Http404):
        permissions.get_visible(Pledge.objects.all(), secretariat, pk=pk)


@pytest.mark.parametrize(
    ("role", "pledge"),
    [("editor_a", "draft_a"), ("editor_a", "confirmed_b"), ("steering", "announced_a"), ("partner", "confirmed_b")],
)
def test_get_visible_returns_visible_pledges(request, pledges, role, pledge):
    found = permissions.get_visible(Pledge.objects.all(), request.getfixturevalue(role), pk=str(pledges[pledge].pk))
    assert found == pledges[pledge]


@pytest.mark.parametrize(
    ("role", "pledge"),
    [("editor_b", "announced_a"), ("editor_a", "confirmed_b"), ("steering", "announced_a"), ("partner", "confirmed_b")],
)
def test_get_editable_refuses_a_visible_pledge_of_another_member(request, pledges, role, pledge):
    with pytest.raises(PermissionDenied):
        permissions.get_editable(Pledge.objects.all(), request.getfixturevalue(role), pk=pledges[pledge].pk)


@pytest.mark.parametrize(
    ("role", "pledge"),
    [("editor_a", "announced_a"), ("editor_a", "draft_a"), ("secretariat", "confirmed_b"), ("admin_user", "other")],
)
def test_get_editable_returns_editable_pledges(request, pledges, role, pledge):
    user = request.getfixturevalue(role)
    assert permissions.get_editable(Pledge.objects.all(), user, pk=pledges[pledge].pk) == pledges[pledge]
    assert pledges[pledge] in Pledge.objects.editable_by(user)


def test_get_editable_of_a_hidden_draft_is_404_not_403(pledges, editor_b):
    with pytest.raises(Http404):
        permissions.get_editable(Pledge.objects.all(), editor_b, pk=pledges["draft_a"].pk)


def test_a_user_without_a_seat_sees_nothing(pledges, outsider):
    assert not Pledge.objects.visible_to(outsider).exists()
    assert not permissions.can_use_portal(outsider)
    with pytest.raises(PermissionDenied, match="do not have a seat in any coalition"):
        permissions.ensure_can_use_portal(outsider)


def test_changed_seats_take_effect_after_forget(coalition, steering, member_a):
    assert not permissions.can_write_pledge_for(steering, coalition, member_a)
    factories.seat(steering, coalition, "secretariat")
    assert permissions.can_write_pledge_for(steering, coalition, member_a)


@pytest.mark.parametrize(
    ("role", "internal", "manage"),
    [
        ("secretariat", True, True),
        ("editor_a", True, False),
        ("steering", True, False),
        ("partner", False, False),
        ("outsider", False, False),
        ("other_secretariat", False, False),
        ("admin_user", True, True),
    ],
)
def test_reading_internal_records_and_managing(request, coalition, role, internal, manage):
    user = request.getfixturevalue(role)
    assert permissions.can_read_internal(user, coalition) is internal
    assert permissions.can_see_delegates(user, coalition) is internal
    assert permissions.can_manage(user, coalition) is manage


# --- Seats are per coalition ---------------------------------------------------------------------


@pytest.fixture
def sec_mix(coalition, other_coalition):
    """Secretariat of the test coalition, steering group of the other."""
    user = factories.persona("sec-mix", "secretariat", coalitions=[coalition])
    factories.seat(user, other_coalition, "steering")
    return user


def test_a_secretariat_in_one_coalition_is_only_what_its_seat_says_in_another(
    sec_mix, pledges, coalition, other_coalition
):
    assert permissions.can_manage(sec_mix, coalition)
    assert not permissions.can_manage(sec_mix, other_coalition)
    assert permissions.can_read_internal(sec_mix, other_coalition)
    assert set(Coalition.objects.editable_by(sec_mix)) == {coalition}
    seen = set(Pledge.objects.visible_to(sec_mix))
    assert pledges["draft_a"] in seen and pledges["other"] in seen
    assert pledges["other_draft"] not in seen, "a steering seat reads no drafts"
    with pytest.raises(PermissionDenied):
        coalition_services.coalition_update(acting_user=sec_mix, coalition=other_coalition, description="Hijacked")


def test_a_member_editor_speaks_for_one_member_per_coalition(coalition, other_coalition, member_a, member_b):
    factories.MembershipFactory(member=member_b, coalition=other_coalition)
    user = factories.persona("two-hats", "member-editor", member=member_a, coalitions=[coalition])
    factories.seat(user, other_coalition, "member-editor", member=member_b)

    assert permissions.can_write_pledge_for(user, coalition, member_a)
    assert not permissions.can_write_pledge_for(user, coalition, member_b)
    assert permissions.can_write_pledge_for(user, other_coalition, member_b)
    assert not permissions.can_write_pledge_for(user, other_coalition, member_a)
    assert permissions.fixed_pledge_member_id(user) is None, "two members: the form lets them choose"
    assert set(permissions.pledge_members(user, Member.objects.all())) == {member_a, member_b}


# --- Published is a fact -------------------------------------------------------------------------


def test_a_draft_withdrawn_before_publication_stays_private(pledges, editor_a, editor_b, steering, partner):
    draft = pledges["draft_a"]
    pledge_services.pledge_withdraw(acting_user=editor_a, pledge=draft)
    draft.refresh_from_db()

    assert draft.status == "withdrawn" and draft.published_at is None
    for reader in (editor_b, steering, partner):
        assert not Pledge.objects.visible_to(reader).filter(pk=draft.pk).exists()
        assert not permissions.can_view(reader, draft)
    assert permissions.can_view(editor_a, draft)


def test_announcing_publishes_once_and_a_later_withdrawal_keeps_it_public(pledges, editor_a, partner):
    draft = pledges["draft_a"]
    announced = pledge_services.pledge_announce(acting_user=editor_a, pledge=draft)
    published_at = announced.published_at
    assert published_at is not None
    withdrawn = pledge_services.pledge_withdraw(acting_user=editor_a, pledge=announced)

    assert withdrawn.published_at == published_at
    assert permissions.can_view(partner, withdrawn)


def test_history_before_publication_is_read_only_by_those_who_read_the_draft(
    pledges, editor_a, editor_b, steering, secretariat, partner
):
    draft = pledges["draft_a"]
    draft = pledge_services.pledge_update(acting_user=editor_a, pledge=draft, amount=Decimal("777.00"))
    pledge_services.pledge_update(acting_user=editor_a, pledge=draft, amount=Decimal("1000.00"))
    pledge_services.pledge_announce(acting_user=editor_a, pledge=draft)

    rows = draft.history.all()
    assert rows.count() == 4
    for reader, count in ((editor_a, 4), (secretariat, 4), (editor_b, 1), (steering, 1), (partner, 0)):
        visible = rows.visible_to(reader)
        assert visible.count() == count, reader
        if count == 1:
            assert [(row.status, row.amount) for row in visible] == [("announced", Decimal("1000.00"))]


def test_the_draft_era_title_does_not_reach_other_readers_history(pledges, editor_a, steering):
    draft = pledges["draft_a"]
    draft = pledge_services.pledge_update(acting_user=editor_a, pledge=draft, title="Draft-era title")
    draft = pledge_services.pledge_update(acting_user=editor_a, pledge=draft, title="Public title")
    pledge_services.pledge_announce(acting_user=editor_a, pledge=draft)

    titles = set(draft.history.visible_to(steering).values_list("title", flat=True))
    assert titles == {"Public title"}
