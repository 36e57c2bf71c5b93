"""Admin Credentials forms of both connections, with write-only secret fields.

A secret field never shows its value: the page says only whether it is set and when secrets last
changed. Leaving it blank keeps the stored value; the "clear" box next to it removes it. The same
forms validate `apps create --file` input, so the browser and the command agree on what is valid.
"""

from __future__ import annotations

import os
import secrets
import ssl
from urllib.parse import urlsplit

from django import forms
from django.core.validators import RegexValidator

from connections.crypto import UnreadableSecret, decrypt, encrypt
from connections.models import ConnectionBase, EntraConnection, SalesforceAuthMethod, SalesforceConnection
from console.concurrency import VersionedFormMixin, change

SECRET_MAX_LENGTH = 1000
# Session key of the secrets typed into a save that was refused (CredentialsForm.keep_for_conflict).
PENDING_SECRETS_SESSION_KEY = "pending_secrets"
# Salesforce usernames have the form of an email address, but a sandbox suffix may end the domain in
# anything (".uat", ".dev2"), which a strict email validator would refuse.
SALESFORCE_USERNAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
    "Enter the Salesforce username, which looks like an email address (admin@acme.com.uat).",
)
# Salesforce retired API versions 30.0 and lower, and SOAP login() is not offered from version 65.0 on.
OLDEST_API_VERSION = 31.0
LAST_SOAP_LOGIN_VERSION = 64.0
SECRET_LABELS = {
    "admin_password": "Admin Password",
    "security_token": "Secret Token",
    "consumer_secret": "Consumer secret",
    "client_secret": "Client secret",
}
SECRET_HELP = {
    "admin_password": "Password of the admin user. Leave blank to keep the stored password.",
    "security_token": "Salesforce: Settings > My Personal Information > Reset My Security Token. "
    "A password reset issues a new token. Leave blank to keep the stored token.",
    "consumer_secret": "Connected app consumer secret (client credentials only). Leave blank to keep it.",
    "client_secret": "Client secret value (not its ID) of the app registration. Leave blank to keep it.",
}


def secret_state(connection: ConnectionBase, field: str) -> str:
    """ "set", "not_set" or "unreadable" (stored, but no configured key can decrypt it)."""
    if not connection.has_secret(field):
        return "not_set"
    try:
        connection.secret(field)
    except UnreadableSecret:
        return "unreadable"
    return "set"


class CredentialsForm(VersionedFormMixin, forms.ModelForm):
    """Common handling of write-only secrets and of the CA bundle path; saves are versioned (console/concurrency.py).

    A save refused because someone else saved meanwhile keeps the secrets that were typed without sending them back
    to the browser: they wait, encrypted, in the session under a random key that the re-rendered form carries, and
    are used by the next save of that form unless another value is typed.
    """

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, session=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        for name in self.secret_fields:
            self.fields[name] = forms.CharField(
                label=SECRET_LABELS[name],
                required=False,
                strip=False,
                max_length=SECRET_MAX_LENGTH,
                help_text=SECRET_HELP[name],
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            )
            self.fields[f"clear_{name}"] = forms.BooleanField(
                label=f"Clear the stored {SECRET_LABELS[name].lower()}",
                required=False,
                help_text="Removes the stored value when you save; the connection then works without it.",
            )
        self.fields["pending_secrets"] = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
        self._mark_kept(self.pending_secrets())

    # Secrets kept across a refused save ------------------------------------------------------------------------
    def pending_secrets(self) -> dict[str, str]:
        """{field: ciphertext} waiting for this form (named by the key it carries)."""
        key = self.data.get(self.add_prefix("pending_secrets")) if self.is_bound else None
        if not key or self.session is None:
            return {}
        return dict(self.session.get(PENDING_SECRETS_SESSION_KEY, {}).get(key, {}))

    def _mark_kept(self, names) -> None:
        for name in names:
            self.fields[name].widget.attrs["placeholder"] = "Kept from your last try (not shown)"
            self.fields[
                name
            ].help_text = (
                "The value you typed before is kept (not shown) and saved with this form; type another to replace it."
            )

    def keep_for_conflict(self, conflict) -> None:
        typed = {name: self.cleaned_data[name] for name in self.secret_fields if self.cleaned_data.get(name)}
        super().keep_for_conflict(conflict)
        if typed and self.session is not None:
            key = secrets.token_urlsafe(24)
            store = self.session.setdefault(PENDING_SECRETS_SESSION_KEY, {})
            store[key] = {name: encrypt(value) for name, value in typed.items()}
            self.session.modified = True
            self.data[self.add_prefix("pending_secrets")] = key
            self._mark_kept(typed)

    def save_versioned(self, **kwargs) -> list[dict]:
        changes = super().save_versioned(**kwargs)
        key = self.cleaned_data.get("pending_secrets")
        if key and self.session is not None and key in self.session.get(PENDING_SECRETS_SESSION_KEY, {}):
            del self.session[PENDING_SECRETS_SESSION_KEY][key]
            self.session.modified = True
        return changes

    # Cleaning and saving -----------------------------------------------------------------------------------------
    def clean_ca_bundle(self) -> str:
        path = self.cleaned_data.get("ca_bundle", "").strip()
        if path and not (os.path.isfile(path) and os.access(path, os.R_OK)):
            raise forms.ValidationError("No readable file at this path on the console server.")
        if path:
            try:
                ssl.create_default_context(cafile=path)
            except (ssl.SSLError, ValueError):
                raise forms.ValidationError(
                    "This file holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the path of the CA "
                    "certificate file in PEM format."
                ) from None
        return path

    def clean(self) -> dict:
        cleaned = super().clean()
        pending = self.pending_secrets()
        for name in self.secret_fields:
            if cleaned.get(name) and cleaned.get(f"clear_{name}"):
                self.add_error(f"clear_{name}", "Either enter a new value or clear it, not both.")
            elif name in pending and not cleaned.get(name) and not cleaned.get(f"clear_{name}"):
                try:
                    cleaned[name] = decrypt(pending[name])
                except UnreadableSecret:
                    self.add_error(name, "The value you typed before can no longer be read: type it again.")
        return cleaned

    def touched_secrets(self) -> list[str]:
        """Secrets this save sets or clears."""
        return [
            name
            for name in self.secret_fields
            if self.cleaned_data.get(name) or (self.cleaned_data.get(f"clear_{name}") and self.loaded.get(name))
        ]

    def fields_to_write(self) -> list[str]:
        touched = self.touched_secrets()
        # Only this form's columns: a Test Connection result stored meanwhile must survive the save.
        return [*self._meta.fields, *touched, *(["secrets_changed_at"] if touched else [])]

    def extra_changes(self) -> list[dict]:
        return [change(name, SECRET_LABELS[name], "", "", secret=True) for name in self.touched_secrets()]

    def save(self, commit: bool = True) -> ConnectionBase:
        """The connection with the typed secrets set (encrypted); write it with save_versioned()."""
        if commit:
            raise ValueError("Save credentials with save_versioned(): it refuses a save over someone else's change.")
        connection = super().save(commit=False)
        for name in self.secret_fields:
            if self.cleaned_data.get(f"clear_{name}"):
                connection.set_secret(name, "")
            elif self.cleaned_data.get(name):
                connection.set_secret(name, self.cleaned_data[name])
        return connection

    def secret_rows(self) -> list[dict]:
        """What the page shows for each secret: the input, the clear box and set / not set."""
        return [
            {"field": self[name], "clear": self[f"clear_{name}"], "state": secret_state(self.instance, name)}
            for name in self.secret_fields
        ]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.Meta.fields]


class SalesforceCredentialsForm(CredentialsForm):
    secret_fields = ("admin_password", "security_token", "consumer_secret")

    class Meta:
        model = SalesforceConnection
        fields = ["auth_method", "login_url", "api_version", "admin_username", "consumer_key", "ca_bundle"]

    def clean_login_url(self) -> str:
        return self.cleaned_data["login_url"].strip().rstrip("/")

    def clean_admin_username(self) -> str:
        username = self.cleaned_data.get("admin_username", "").strip()
        if username:
            SALESFORCE_USERNAME_VALIDATOR(username)
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("auth_method") == SalesforceAuthMethod.CLIENT_CREDENTIALS and not cleaned.get("consumer_key"):
            self.add_error("consumer_key", "The client credentials method needs the connected app's consumer key.")
        # The model's format check runs after clean(), so the version may still be malformed here.
        try:
            version = float(cleaned.get("api_version") or "")
        except ValueError:
            return cleaned
        if version < OLDEST_API_VERSION:
            self.add_error("api_version", f"Salesforce has retired API versions below {OLDEST_API_VERSION:.1f}.")
        elif version > LAST_SOAP_LOGIN_VERSION and cleaned.get("auth_method") == SalesforceAuthMethod.PASSWORD:
            self.add_error(
                "api_version",
                f"Sign-in with username, password and secret token (SOAP login) ends at API version "
                f"{LAST_SOAP_LOGIN_VERSION:.1f}: choose that or a lower version, or OAuth client credentials.",
            )
        return cleaned


class EntraCredentialsForm(CredentialsForm):
    secret_fields = ("client_secret",)

    class Meta:
        model = EntraConnection
        fields = ["tenant_id", "client_id", "service_principal_id", "authority_host", "graph_url", "ca_bundle"]

    def _guid(self, name: str) -> str:
        return self.cleaned_data.get(name, "").strip().lower()

    def clean_tenant_id(self) -> str:
        return self._guid("tenant_id")

    def clean_client_id(self) -> str:
        return self._guid("client_id")

    def clean_service_principal_id(self) -> str:
        return self._guid("service_principal_id")

    def clean_authority_host(self) -> str:
        url = self.cleaned_data["authority_host"].strip().rstrip("/")
        if urlsplit(url).path:
            # The tenant ID is appended to it; a pasted ".../<tenant>/v2.0" would double it.
            raise forms.ValidationError(
                "Enter only the scheme and host, such as https://login.microsoftonline.com: the tenant ID is added "
                "from the Tenant ID field."
            )
        return url

    def clean_graph_url(self) -> str:
        url = self.cleaned_data["graph_url"].strip().rstrip("/")
        # Without the version every Graph call answers 404, which reads as "service principal not found".
        if not url.endswith(("/v1.0", "/beta")):
            raise forms.ValidationError(
                "End the Graph endpoint with the API version, such as https://graph.microsoft.com/v1.0."
            )
        return url
