"""DRF permission classes. They decide nothing themselves: every question goes to coalition.permissions."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from coalition import permissions


class CoalitionAPIPermission(BasePermission):
    """Reading needs a role in some coalition; writing needs the view's ``write_scope`` (see
    ``coalition.permissions.can_write_api``). What a user may do to a given record is decided by
    the querysets the view reads through (404 when hidden) and by the services (403)."""

    message = "You have no role in any coalition, so the API has nothing for you."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401 with WWW-Authenticate: Token
        if not permissions.can_use_portal(user):
            return False
        if request.method in SAFE_METHODS:
            return True
        if not hasattr(view, request.method.lower()) and not getattr(view, "action", None):
            return True  # a method the view does not offer: DRF answers 405
        scope = getattr(view, "write_scope", None)
        if scope is None or not permissions.can_write_api(user, scope):
            self.message = "Your role may read this part of the API but not write to it."
            return False
        return True
