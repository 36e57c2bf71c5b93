"""Applications and the two connections each one provisions between.

An Application is one Salesforce Sandbox org provisioned from one Entra tenant (Entra's "enterprise
application"). Its EntraConnection is the source, its SalesforceConnection the target.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone

from connections.crypto import EncryptedTextField, SecretValue, encrypt
from console.concurrency import Versioned

GUID_VALIDATOR = RegexValidator(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "Enter a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47 (Entra admin center > Overview).",
)
HTTPS_URL_VALIDATOR = RegexValidator(
    r"^https://[^\s/?#]+(/[^\s?#]*)?$", "Enter an https:// address (plain http is refused)."
)
API_VERSION_VALIDATOR = RegexValidator(r"^\d{2}\.0$", "Enter an API version such as 59.0 (no leading v).")


# An application's connections as URLs and commands name them (attributes of Application).
CONNECTION_KEYS = ("salesforce", "entra")


class ProvisioningMode(models.TextChoices):
    MANUAL = "manual", "Manual"
    AUTOMATIC = "automatic", "Automatic"


class Application(Versioned, models.Model):
    """An enterprise application "Salesforce Sandbox": one org, one tenant, its own settings and job."""

    name = models.CharField(
        max_length=100, unique=True, help_text="A name administrators recognise, such as “UAT sandbox”."
    )
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in URLs and management commands.")
    object_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(max_length=500, blank=True)
    provisioning_mode = models.CharField(
        max_length=20,
        choices=ProvisioningMode.choices,
        default=ProvisioningMode.MANUAL,
        help_text="Automatic: the console creates, updates and deactivates Salesforce users. "
        "Manual: nothing is provisioned automatically.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_automatic(self) -> bool:
        return self.provisioning_mode == ProvisioningMode.AUTOMATIC


class TestOutcome(models.TextChoices):
    __test__ = False  # a name pytest would otherwise try to collect

    SUCCESS = "success", "Succeeded"
    FAILURE = "failure", "Failed"


class ConnectionBase(Versioned, models.Model):
    """What both connections share: the CA bundle and the stored result of the last Test Connection."""

    ca_bundle = models.CharField(
        "CA bundle path",
        max_length=500,
        blank=True,
        help_text="Optional path to a PEM file of trusted CAs (TLS-inspecting proxy, bundled emulators). "
        "Used instead of the system trust store; proxies from HTTPS_PROXY/NO_PROXY still apply.",
    )
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_outcome = models.CharField(max_length=10, choices=TestOutcome.choices, blank=True)
    last_test_message = models.TextField(blank=True)
    last_test_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    secrets_changed_at = models.DateTimeField(null=True, blank=True)

    SECRET_FIELDS: tuple[str, ...] = ()
    SYSTEM = ""  # the remote system's name, as messages and the audit log say it

    class Meta:
        abstract = True

    def set_secret(self, field: str, plaintext: str | None) -> None:
        """Store `plaintext` encrypted in `field`; None or "" clears it."""
        if field not in self.SECRET_FIELDS:
            raise ValueError(f"{field} is not a secret field of {type(self).__name__}")
        setattr(self, field, SecretValue(encrypt(plaintext) if plaintext else ""))
        self.secrets_changed_at = timezone.now()

    def secret(self, field: str) -> str:
        """The decrypted secret ("" when not set). Only clients call this, at the moment of use."""
        if field not in self.SECRET_FIELDS:
            raise ValueError(f"{field} is not a secret field of {type(self).__name__}")
        value: SecretValue = getattr(self, field)
        return value.reveal() if value else ""

    def has_secret(self, field: str) -> bool:
        return bool(getattr(self, field))

    def record_test(self, ok: bool, message: str, duration_ms: int) -> None:
        self.last_test_at = timezone.now()
        self.last_test_outcome = TestOutcome.SUCCESS if ok else TestOutcome.FAILURE
        self.last_test_message = message
        self.last_test_duration_ms = duration_ms
        self.save(update_fields=["last_test_at", "last_test_outcome", "last_test_message", "last_test_duration_ms"])


class EntraConnection(ConnectionBase):
    """The source: an Entra tenant read through Microsoft Graph with an app registration's client secret."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="entra")
    tenant_id = models.CharField(
        "Tenant ID",
        max_length=36,
        blank=True,
        validators=[GUID_VALIDATOR],
        help_text="Directory (tenant) ID of the Entra tenant.",
    )
    client_id = models.CharField(
        "Client (application) ID",
        max_length=36,
        blank=True,
        validators=[GUID_VALIDATOR],
        help_text="Application (client) ID of the app registration that reads users through Graph.",
    )
    client_secret = EncryptedTextField("Client secret", blank=True, default="")
    service_principal_id = models.CharField(
        "Service principal object ID",
        max_length=36,
        blank=True,
        validators=[GUID_VALIDATOR],
        help_text="Object ID of the Salesforce Sandbox enterprise application whose assignments are provisioned.",
    )
    authority_host = models.CharField(
        max_length=200,
        default="https://login.microsoftonline.com",
        validators=[HTTPS_URL_VALIDATOR],
        help_text="Sign-in endpoint. Change it only for a national cloud or the bundled emulator.",
    )
    graph_url = models.CharField(
        "Graph endpoint",
        max_length=200,
        default="https://graph.microsoft.com/v1.0",
        validators=[HTTPS_URL_VALIDATOR],
        help_text="Microsoft Graph base address, including /v1.0.",
    )

    SECRET_FIELDS = ("client_secret",)
    SYSTEM = "Microsoft Entra ID"

    def __str__(self) -> str:
        return f"Entra tenant {self.tenant_id or '(not set)'}"

    def missing_fields(self) -> list[str]:
        """Labels of the fields a sign-in needs and that are still empty."""
        required = [
            ("Tenant ID", bool(self.tenant_id)),
            ("Client (application) ID", bool(self.client_id)),
            ("Client secret", self.has_secret("client_secret")),
            ("Service principal object ID", bool(self.service_principal_id)),
        ]
        return [label for label, present in required if not present]

    @property
    def is_configured(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.service_principal_id and self.client_secret)


class SalesforceAuthMethod(models.TextChoices):
    PASSWORD = "password", "Admin username + password + secret token"
    CLIENT_CREDENTIALS = "client_credentials", "OAuth 2.0 client credentials (connected app)"


class SalesforceConnection(ConnectionBase):
    """The target: a Salesforce Sandbox org, reached with the tutorial's Admin Credentials."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="salesforce")
    auth_method = models.CharField(
        "Authentication method",
        max_length=30,
        choices=SalesforceAuthMethod.choices,
        default=SalesforceAuthMethod.PASSWORD,
        help_text="Use client credentials for orgs that no longer hand out security tokens.",
    )
    login_url = models.CharField(
        "Login URL",
        max_length=200,
        default="https://test.salesforce.com",
        validators=[HTTPS_URL_VALIDATOR],
        help_text="https://test.salesforce.com for sandboxes, or the My Domain address such as "
        "https://acme--uat.sandbox.my.salesforce.com.",
    )
    api_version = models.CharField(
        "API version",
        max_length=5,
        default="59.0",
        validators=[API_VERSION_VALIDATOR],
        help_text="Salesforce REST API version the console calls, such as 59.0. Keep the default unless "
        "the org needs another.",
    )
    admin_username = models.CharField(
        "Admin Username",
        max_length=80,
        blank=True,
        validators=[MaxLengthValidator(80)],
        help_text="Username of a Salesforce user with the System Administrator profile "
        "(sandbox usernames carry the sandbox suffix, e.g. admin@acme.com.uat).",
    )
    admin_password = EncryptedTextField("Admin Password", blank=True, default="")
    security_token = EncryptedTextField("Secret Token", blank=True, default="")
    consumer_key = models.CharField(
        "Consumer key",
        max_length=255,
        blank=True,
        help_text="Connected app consumer key (client credentials flow only).",
    )
    consumer_secret = EncryptedTextField("Consumer secret", blank=True, default="")
    # The org the console's links, escrows and watermark point into, recorded at the first Test Connection or cycle.
    # A refreshed sandbox is a new org with a new ID: a different ID at sign-in is noted, and nothing is written into
    # it until an administrator chooses Re-match after refresh.
    organization_id = models.CharField("Organization ID", max_length=18, blank=True, editable=False)
    new_organization_id = models.CharField(
        "Organization ID found at sign-in", max_length=18, blank=True, editable=False
    )
    organization_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Re-match after refresh asked to remove the ".invalid" a refresh appended to e-mails: done by the next complete
    # initial cycle, then cleared.
    repair_invalid_emails = models.BooleanField(default=False, editable=False)

    SECRET_FIELDS = ("admin_password", "security_token", "consumer_secret")
    SYSTEM = "Salesforce"

    def __str__(self) -> str:
        return f"Salesforce {self.admin_username or '(not set)'} at {self.login_url}"

    def missing_fields(self) -> list[str]:
        """Labels of the fields a sign-in with the chosen method needs and that are still empty."""
        if self.auth_method == SalesforceAuthMethod.CLIENT_CREDENTIALS:
            required = [
                ("Consumer key", bool(self.consumer_key)),
                ("Consumer secret", self.has_secret("consumer_secret")),
            ]
        else:
            required = [
                ("Admin Username", bool(self.admin_username)),
                ("Admin Password", self.has_secret("admin_password")),
            ]
        required.insert(0, ("Login URL", bool(self.login_url)))
        return [label for label, present in required if not present]

    def note_organization(self, found: str) -> bool:
        """Compare the org signed in to with the one recorded: record it when none is, note it when it differs.
        True when it is the recorded org (go on), False when the org changed (write nothing)."""
        now = timezone.now()
        model = type(self)
        if not self.organization_id:
            if model.objects.filter(pk=self.pk, organization_id="").update(organization_id=found):
                self.organization_id = found
                return True
            self.refresh_from_db(fields=["organization_id"])
        if found == self.organization_id:
            if self.new_organization_id:  # the connection points at the recorded org again: nothing to re-match
                model.objects.filter(pk=self.pk).update(new_organization_id="", organization_changed_at=None)
                self.new_organization_id, self.organization_changed_at = "", None
            return True
        if self.new_organization_id != found:
            model.objects.filter(pk=self.pk).update(new_organization_id=found, organization_changed_at=now)
            self.new_organization_id, self.organization_changed_at = found, now
        return False

    @property
    def is_configured(self) -> bool:
        if self.auth_method == SalesforceAuthMethod.CLIENT_CREDENTIALS:
            return bool(self.consumer_key and self.consumer_secret)
        return bool(self.admin_username and self.admin_password)
