"""Events other apps (reports) react to, sent inside the writer's transaction: a receiver's own writes
(an outbox row asking for a report) commit or roll back with the change."""

from django.dispatch import Signal

#: Sent with ``pledge_id`` and ``acting_user_id`` when a pledge is confirmed.
pledge_confirmed = Signal()
#: Sent with ``pledge_import_id``, ``acting_user_id`` and ``confirmed_ids`` (the pledges the import
#: created as confirmed) when an import is written: one event for the whole file, where
#: pledge_confirmed per row would send the secretariat a notice per imported line.
pledges_imported = Signal()
