"""A partner's mirror as the README's sync client keeps it, and the fresh listing it must equal."""

from coalition import changes
from feed import events


class Mirror:
    """Applies feed events in order: the record's data by resource and key; gone on deleted/hidden."""

    def __init__(self, user):
        self.user = user
        self.records = {resource.name: {} for resource in changes.RESOURCES}
        self.after = events.START
        self.seen = []

    def apply(self, event):
        records = self.records[event["resource"]]
        if event["change"] in ("deleted", events.HIDDEN):
            records.pop(event["key"], None)
        else:
            records[event["key"]] = event["data"]
        self.seen.append(event["seq"])

    def sync(self, limit=100):
        """Follow the feed until it has nothing more; returns the number of events applied."""
        applied = 0
        while True:
            # A fresh read of the user (and so of their seats) each time, as each API request makes.
            user = type(self.user)._default_manager.get(pk=self.user.pk)
            page, self.after, has_more = events.page(user, self.after, limit)
            for event in page:
                self.apply(event)
            applied += len(page)
            if not has_more:
                return applied


def full_listing(user):
    """What every resource's list endpoint returns to ``user`` now, by resource and key (all pages)."""
    user = type(user)._default_manager.get(pk=user.pk)
    request = events._request_for(user)
    listing = {}
    for resource in changes.RESOURCES:
        viewset = events._viewset(resource.name, request)
        rows = list(viewset.list_rows(viewset.get_queryset()))
        data = viewset.get_serializer(rows, many=True).data
        keys = [events._row_key(row, resource.key) for row in rows]
        listing[resource.name] = dict(zip(keys, data, strict=True))
    return listing
