"""Coloured choices that only pages show (no model stores them), and the colours of connections/' choices.

connections/ declares TestOutcome and ProvisioningMode as plain choices; their badges are the ChoiceSets below,
built from the same members so that values and labels cannot drift apart.
"""

from __future__ import annotations

from connections.models import ProvisioningMode, TestOutcome
from console.choices import ChoiceSet


class ProvisioningStatus(ChoiceSet):
    """The On/Off toggle of a job, as the Provisioning Status section calls it."""

    ON = "on", "On", "green"
    OFF = "off", "Off", "grey"


class SecretState(ChoiceSet):
    SET = "set", "Set", "green"
    NOT_SET = "not_set", "Not set", "grey"
    UNREADABLE = "unreadable", "Unreadable", "red"


class TestOutcomeBadge(ChoiceSet):
    __test__ = False  # a name pytest would otherwise try to collect

    SUCCESS = TestOutcome.SUCCESS.value, TestOutcome.SUCCESS.label, "green"
    FAILURE = TestOutcome.FAILURE.value, TestOutcome.FAILURE.label, "red"


class ProvisioningModeBadge(ChoiceSet):
    AUTOMATIC = ProvisioningMode.AUTOMATIC.value, ProvisioningMode.AUTOMATIC.label, "blue"
    MANUAL = ProvisioningMode.MANUAL.value, ProvisioningMode.MANUAL.label, "grey"
