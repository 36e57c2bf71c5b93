"""Which failed sign-ins django-axes counts together.

Failures count per account and address together (AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]): five
wrong passwords for one account lock that account from that address only, so a colleague behind the same proxy or
NAT still signs in, and an attacker elsewhere cannot lock the account's owner out. A name that is no account here is
counted as "no account" (None): all such failures from one address add up, so guessing names from one address is
locked after the same number of tries.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest


def account_name(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the typed username when it names an account, else None."""
    name = (credentials or {}).get("username")
    if name is None and request is not None:
        name = request.POST.get("username")
    if not name:
        return None
    users = get_user_model()._default_manager
    return name if users.filter(**{get_user_model().USERNAME_FIELD: name}).exists() else None
