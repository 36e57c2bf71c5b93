"""Who may do what in the console: the two roles people hold, as Django groups, and the checks views use.

(App roles of the enterprise application, the Salesforce profiles, are another thing: mappings/role_import.py.)

"Application Administrator" configures applications, starts and stops provisioning and provisions
on demand; "Reports Reader" sees overviews, logs and audit entries but changes nothing. Superusers
count as administrators.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

APPLICATION_ADMINISTRATOR = "Application Administrator"
REPORTS_READER = "Reports Reader"
ROLES = (APPLICATION_ADMINISTRATOR, REPORTS_READER)


def _group_names(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_console_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._console_roles = cached
    return cached


def is_administrator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or APPLICATION_ADMINISTRATOR in _group_names(user)))


def is_reader(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True for anyone allowed to read: readers and administrators."""
    return is_administrator(user) or REPORTS_READER in _group_names(user)


def reader_required(view):
    """Signed-in users without either role get 403 (sign-in itself is enforced by middleware)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_reader(request.user):
            raise PermissionDenied("You need the Reports Reader or Application Administrator role.")
        return view(request, *args, **kwargs)

    return wrapper


def administrator_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_administrator(request.user):
            raise PermissionDenied("Only an Application Administrator can do this.")
        return view(request, *args, **kwargs)

    return wrapper


def role_context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"is_administrator": is_administrator(user), "is_reader": is_reader(user)}


def disable_forms_for_readers(user: AbstractBaseUser | AnonymousUser, *forms) -> None:
    """Readers see the same forms as administrators, every field disabled (their POSTs are refused anyway)."""
    if is_administrator(user):
        return
    for form in forms:
        for field in form.fields.values():
            field.disabled = True
