"""python manage.py api_tokens create USER --name NAME [--scope read|administer] [--days N] | list [--user USER] |
revoke ID_OR_PREFIX

Personal API tokens from the server's shell, by the same rules as the API tokens page: the new token is printed
once on standard output (and nowhere else), its owner must hold a console role (administer: Application
Administrator), and creating or revoking one is in the audit log.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken, TokenScope
from api.tokens import DEFAULT_DAYS, create_token, describe, revoke_token

COMMAND_ACTOR = "manage.py api_tokens"


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="Create a token for a console user and print it once.")
        create.add_argument("user", help="The console username that owns the token.")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        create.add_argument(
            "--days", type=int, default=DEFAULT_DAYS, help=f"Days until it expires (default {DEFAULT_DAYS})."
        )
        listing = sub.add_parser("list", help="List tokens (never the tokens themselves).")
        listing.add_argument("--user", help="Only this user's tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or its prefix (as list shows them).")
        revoke.add_argument("token", help="The id, or the prefix such as spc_AbCdEfGh.")

    def handle(self, *args, subcommand: str, **options) -> None:
        {"create": self.do_create, "list": self.do_list, "revoke": self.do_revoke}[subcommand](**options)

    def do_create(self, user: str, name: str, scope: str, days: int, **_) -> None:
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No console user {user!r}.")
        try:
            created = create_token(owner, name=name, scope=scope, days=days, actor=COMMAND_ACTOR)
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stderr.write(f"Created {describe(created.token)} for {owner.get_username()}, expires "
                          f"{created.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once, below.")  # fmt: skip
        self.stdout.write(created.raw)

    def do_list(self, user: str | None = None, **_) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("created_at", "id")
        if user:
            tokens = tokens.filter(user__username=user)
        for token in tokens:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk:>5}  {token.prefix}…  {token.user.get_username():<20} {token.scope:<10} "
                f"expires {token.expires_at:%Y-%m-%d %H:%M}  used {used:<16} {token.state:<7} {token.name}"
            )

    def do_revoke(self, token: str, **_) -> None:
        found = ApiToken.objects.filter(pk=int(token)) if token.isdigit() else ApiToken.objects.filter(prefix=token)
        found = list(found.select_related("user")[:2])
        if len(found) != 1:
            raise CommandError(f"{'No' if not found else 'More than one'} token {token!r}: use the id that list shows.")
        if revoke_token(found[0], actor=COMMAND_ACTOR):
            self.stdout.write(f"Revoked {describe(found[0])} of {found[0].user.get_username()}.")
        else:
            self.stdout.write(f"{describe(found[0])} was already revoked.")
