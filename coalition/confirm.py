"""A second step before an action that cannot be taken back (withdraw, delete, drop, cancel).

The action's form posts as before; without ``confirm=yes`` the view answers with a page that says
what will happen and posts the same fields again with ``confirm=yes``. It needs no JavaScript, so it
holds under the strict CSP and for keyboard and screen-reader users alike, and a scripted client
that means it says so. The API is not concerned: its clients confirm by calling.
"""

from django.shortcuts import render

CONFIRM_FIELD = "confirm"


def confirmed(request):
    return request.POST.get(CONFIRM_FIELD) == "yes"


def confirmation_page(request, *, title, question, consequences=(), button, back_url, record=None):
    """The page asking to confirm ``request``'s POST: its fields resent (but the CSRF token, which the
    page carries itself) with confirm=yes, to the same address."""
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", CONFIRM_FIELD)
        for value in values
    ]
    return render(
        request,
        "includes/confirm.html",
        {
            "title": title,
            "question": question,
            "consequences": consequences,
            "button": button,
            "back_url": back_url,
            "record": record,
            "fields": fields,
            "action": request.path,
        },
    )
