"""Events other apps (reports) react to. Sent after the transaction commits, never before."""

from django.dispatch import Signal

#: Sent with ``pledge_id`` and ``acting_user_id`` once a confirmation has committed.
pledge_confirmed = Signal()
#: Sent with ``pledge_import_id``, ``acting_user_id`` and ``confirmed_ids`` (the pledges the import
#: created as confirmed) once an import has committed: one event for the whole file, where
#: pledge_confirmed per row would send the secretariat a notice per imported line.
pledges_imported = Signal()
