"""Status badges: the label and colour of every status the pages show, kept in one place.

Templates never pick colours themselves; they render ``{% badge conn.last_test_outcome "TestOutcome" %}``
(provisioning.templatetags.console_ui), which looks the value up here by the choices class name. Later
statuses register their choices with ``register_badges``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString

from connections.models import ProvisioningMode, TestOutcome
from provisioning.models import CycleStatus, LogAction, LogStatus

# Colours the stylesheet knows (static/console.css: .badge-<colour>).
COLOURS = ("green", "red", "amber", "blue", "grey")


@dataclass(frozen=True)
class Badge:
    label: str
    colour: str


_BADGES: dict[tuple[str, str], Badge] = {}


def register_badges(choices: type[models.Choices], colours: dict[str, str]) -> None:
    """Give each value of a choices class a colour; the label comes from the choices class itself."""
    for value, colour in colours.items():
        if colour not in COLOURS:
            raise ValueError(f"Unknown badge colour {colour!r}; use one of {', '.join(COLOURS)}")
        _BADGES[(choices.__name__, str(value))] = Badge(choices(value).label, colour)


class ProvisioningStatus(models.TextChoices):
    """The On/Off toggle of a job, as the Provisioning Status section calls it."""

    ON = "on", "On"
    OFF = "off", "Off"


class CredentialsState(models.TextChoices):
    CONFIGURED = "configured", "Configured"
    NOT_CONFIGURED = "not_configured", "Not configured"


class SecretState(models.TextChoices):
    SET = "set", "Set"
    NOT_SET = "not_set", "Not set"
    UNREADABLE = "unreadable", "Unreadable"


register_badges(TestOutcome, {TestOutcome.SUCCESS: "green", TestOutcome.FAILURE: "red"})
register_badges(ProvisioningMode, {ProvisioningMode.AUTOMATIC: "blue", ProvisioningMode.MANUAL: "grey"})
register_badges(ProvisioningStatus, {ProvisioningStatus.ON: "green", ProvisioningStatus.OFF: "grey"})
register_badges(CredentialsState, {CredentialsState.CONFIGURED: "green", CredentialsState.NOT_CONFIGURED: "amber"})
register_badges(SecretState, {SecretState.SET: "green", SecretState.NOT_SET: "grey", SecretState.UNREADABLE: "red"})
for _choices in (CycleStatus, LogStatus, LogAction):
    register_badges(_choices, _choices.colours())


def badge_for(value: object, choices_name: str) -> Badge | None:
    """The badge of a stored choice value; None for a blank value, grey for a value nobody registered."""
    if value is None or value == "":
        return None
    return _BADGES.get((choices_name, str(value))) or Badge(str(value), "grey")


def badge_html(value: object, choices_name: str) -> SafeString | str:
    """The coloured label of a stored choice value; "" for a blank value."""
    found = badge_for(value, choices_name)
    if found is None:
        return ""
    return format_html('<span class="badge badge-{}">{}</span>', found.colour, found.label)
