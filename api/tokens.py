"""Creating, checking and revoking personal API tokens. The page, `manage.py api_tokens` and the API's bearer
authentication all go through these functions, so the rules (who may hold which scope, what a token is worth once
its owner lost a role) live in one place."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken, TokenScope
from console.models import AuditActivity, record_audit
from console.permissions import is_administrator, is_reader

TOKEN_MARK = "spc_"  # "sandbox provisioning console": lets secret scanners and people recognise a token
PREFIX_LENGTH = len(TOKEN_MARK) + 8
DEFAULT_DAYS = 90
MAX_DAYS = 366
# last_used_at is written at most this often per token: a script polling every second costs no write per call.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenRefused(Exception):
    """A token that authenticates nobody: missing, unknown, expired or revoked (401)."""


class TokenNotAllowed(Exception):
    """A token whose owner may not do this (403): no console role any more, or a read token asked to change."""


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def describe(token: ApiToken) -> str:
    """How the audit log and messages name a token: never more of it than its prefix."""
    return f"{token.prefix}… “{token.name}” ({token.get_scope_display().lower()})"


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # shown once, then forgotten


def create_token(user: AbstractBaseUser, *, name: str, scope: str, days: int = DEFAULT_DAYS, actor=None) -> NewToken:
    """A new token of `user`; ValueError (with what to change) when the owner may not hold it."""
    name = name.strip()
    if not name:
        raise ValueError("Give the token a name that says what it is for.")
    if scope not in TokenScope.values:
        raise ValueError(f"Unknown scope {scope!r}: use {' or '.join(TokenScope.values)}.")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A token lasts from 1 to {MAX_DAYS} days.")
    if not is_reader(user):
        raise ValueError("Only a Reports Reader or an Application Administrator can hold an API token.")
    if scope == TokenScope.ADMINISTER and not is_administrator(user):
        raise ValueError("Only an Application Administrator can hold a token that administers; create a read token.")
    raw = TOKEN_MARK + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            scope=scope,
            prefix=raw[:PREFIX_LENGTH],
            digest=digest_of(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        record_audit(
            AuditActivity.CREATE_API_TOKEN,
            actor=actor if actor is not None else user,
            detail=f"{describe(token)} of {user.get_username()}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return NewToken(token, raw)


def revoke_token(token: ApiToken, *, actor) -> bool:
    """Revoke the token (True), or leave an already revoked one as it is (False)."""
    with transaction.atomic():
        current = ApiToken.objects.select_for_update().get(pk=token.pk)
        if current.revoked_at is not None:
            return False
        name = actor.get_username() if hasattr(actor, "get_username") else str(actor)
        current.revoked_at = timezone.now()
        current.revoked_by = name[:150]
        current.save(update_fields=["revoked_at", "revoked_by"])
        record_audit(
            AuditActivity.REVOKE_API_TOKEN,
            actor=actor,
            detail=f"{describe(current)} of {current.user.get_username()}",
        )
    token.revoked_at, token.revoked_by = current.revoked_at, current.revoked_by
    return True


def authenticate(raw: str) -> ApiToken:
    """The token `raw` stands for, or TokenRefused saying why (the reason names no part of the token)."""
    if not raw or not raw.startswith(TOKEN_MARK):
        raise TokenRefused("The bearer token is not a console API token. Create one under API tokens.")
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(raw)).first()
    if token is None:
        raise TokenRefused("The bearer token is not known. Create one under API tokens.")
    if token.is_revoked:
        raise TokenRefused(f"The token {token.prefix}… was revoked. Create a new one under API tokens.")
    if token.is_expired:
        raise TokenRefused(f"The token {token.prefix}… expired at {token.expires_at:%Y-%m-%d %H:%M} UTC. "
                           "Create a new one under API tokens.")  # fmt: skip
    if not token.user.is_active:
        raise TokenRefused(f"The account that owns the token {token.prefix}… is disabled.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def require(token: ApiToken, *, administer: bool) -> None:
    """The same role checks as the pages, on the owner's roles *now*: a token is never worth more than its owner."""
    user = token.user
    user._console_roles = None  # roles are read afresh on every call, never from a cache of an earlier one
    if not is_reader(user):
        raise TokenNotAllowed(
            f"The owner of the token {token.prefix}… no longer holds the Reports Reader or Application "
            "Administrator role."
        )
    if not administer:
        return
    if token.scope != TokenScope.ADMINISTER:
        raise TokenNotAllowed(f"The token {token.prefix}… may only read; this needs a token that administers.")
    if not is_administrator(user):
        raise TokenNotAllowed(
            f"Only an Application Administrator can do this; the owner of the token {token.prefix}… no longer "
            "holds that role."
        )
