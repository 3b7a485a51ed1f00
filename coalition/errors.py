"""Errors services raise besides Django's ValidationError and PermissionDenied."""

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

#: The database errors that are the connection's, not the data's (a restart, a failover, a pooler out
#: of connections): worth trying again later, never a verdict on the record.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class ConflictError(Exception):
    """The record changed since the client read it: the update was made against a stale version."""

    def __init__(self, *, model_name, current_version, message=None):
        self.current_version = current_version
        self.message = message or _(
            "This %(model)s was changed by someone else since you opened it (now version %(version)s). "
            "Reload it and apply your change again."
        ) % {"model": model_name, "version": current_version}
        super().__init__(str(self.message))
