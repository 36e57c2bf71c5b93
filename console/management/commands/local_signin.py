"""python manage.py local_signin on|off|status: break-glass for when sign-in with Entra ID is unavailable."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from console import entra_signin
from console.concurrency import save_changes, snapshot
from console.models import AuditActivity, SignInPolicy, record_audit


class Command(BaseCommand):
    help = "Turn sign-in with local accounts on or off, or show whether it is on (break-glass from the server)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("state", choices=["on", "off", "status"])

    def handle(self, *args, state: str, **options) -> None:
        policy = SignInPolicy.current()
        if state == "status":
            entra = "configured" if entra_signin.is_enabled() else "not configured"
            self.stdout.write(f"Local sign-in: {'on' if policy.local_sign_in else 'off'}; Entra ID sign-in: {entra}.")
            return
        wanted = state == "on"
        if not wanted and not entra_signin.is_enabled():
            raise CommandError(
                "Sign-in with Entra ID is not configured: turning local sign-in off would lock everyone out."
            )
        if policy.local_sign_in != wanted:
            before = snapshot(policy, ["local_sign_in"])
            policy.local_sign_in = wanted
            # Versioned, so a Sign-in page opened before this is refused rather than undoing it.
            save_changes(policy, ["local_sign_in"], before=before, actor="manage.py local_signin")
            record_audit(
                AuditActivity.UPDATE_SIGN_IN,
                actor="manage.py local_signin",
                changed_fields=["local_sign_in"],
                detail=f"Local sign-in {state} (management command)",
            )
        self.stdout.write(f"Local sign-in is {state}.")
