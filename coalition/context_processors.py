"""What every page's navigation needs to know about the user, decided by the permissions layer."""

from django.utils.functional import SimpleLazyObject

from coalition import permissions


def navigation(request):
    """``nav.deliveries``: whether the delivery log is in the user's menu (the secretariat's). Lazy:
    a page that does not show the navigation (signed out) asks nothing."""

    def links():
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        return {"deliveries": signed_in and permissions.can_view_deliveries(user)}

    return {"nav": SimpleLazyObject(links)}
