"""Who may do what to each kind of record: the one role × action table the API tests
(tests/api_mixins.py) and the page tests (tests/view_mixins.py) both read, so a page and its endpoint
cannot disagree. It restates DESIGN.md's roles table for the personas of tests/conftest.py, acting on
a record of member A (Estonia) in the test coalition; everyone here is seated in that coalition.
"""

#: Every persona with a seat in the test coalition.
ROLES = ("secretariat", "editor_a", "editor_b", "steering", "partner")
EVERYONE = frozenset(ROLES)
SECRETARIAT = frozenset({"secretariat"})
#: Member A's record: its member's editors and the secretariat.
OWN_A = frozenset({"secretariat", "editor_a"})

#: ``{object type: {action: roles allowed}}``; an action a type lacks is offered to nobody.
ACTIONS = {
    "coalition": {"read": EVERYONE, "change": SECRETARIAT},
    "member": {"read": EVERYONE, "create": SECRETARIAT, "change": SECRETARIAT},
    "pledge": {"read": EVERYONE, "create": OWN_A, "change": OWN_A, "delete": OWN_A, "transition": OWN_A},
    "disbursement": {"read": EVERYONE, "create": OWN_A, "change": OWN_A, "delete": OWN_A},
    "priority": {
        "read": EVERYONE,
        "create": SECRETARIAT,
        "change": SECRETARIAT,
        "delete": SECRETARIAT,
        "transition": SECRETARIAT,
    },
    "allocation": {"read": EVERYONE, "create": SECRETARIAT, "change": SECRETARIAT, "delete": SECRETARIAT},
    "meeting": {
        "read": EVERYONE,
        "create": SECRETARIAT,
        "change": SECRETARIAT,
        "delete": SECRETARIAT,
        "transition": SECRETARIAT,
    },
    "decision": {"read": EVERYONE, "create": SECRETARIAT, "change": SECRETARIAT, "delete": SECRETARIAT},
    "action-item": {"read": EVERYONE, "create": SECRETARIAT, "change": SECRETARIAT, "delete": SECRETARIAT},
    "exchange-rate": {"read": EVERYONE},
}


def allowed(object_type, action):
    """The personas allowed ``action`` on an ``object_type`` record of member A."""
    return ACTIONS[object_type].get(action, frozenset())


def refused(object_type, action):
    """The seated personas refused it (403: they may see the record, not do this)."""
    return tuple(role for role in ROLES if role not in allowed(object_type, action))
