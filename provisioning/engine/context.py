"""What every page of a cycle shares (PageContext): the compiled mapping, the policy, the step objects, the
assignments read at the start, and what the cycle tallies for its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mappings.compiled import CompiledMapping
from mappings.target_types import TargetTypes
from provisioning.engine.access import AccessStep
from provisioning.engine.deletion_hold import DeletionHold
from provisioning.engine.exporter import Exporter
from provisioning.engine.log import LogWriter
from provisioning.engine.manager import ManagerStep
from provisioning.engine.matcher import Matcher
from provisioning.engine.planner import Policy
from provisioning.models import ProvisioningCycle


class SeenLinks:
    """The links a full cycle read, by primary key: one bit each, so that marking a page's users costs no write and
    100,000 links cost 12.5 kB (a link's row is rewritten only when something in it changed)."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, pks: Iterable[int]) -> None:
        bits = self._bits
        for pk in pks:
            byte = pk >> 3
            if byte >= len(bits):
                bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))  # doubles: amortized growth
            bits[byte] |= 1 << (pk & 7)

    def __contains__(self, pk: int) -> bool:
        byte = pk >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (pk & 7)))


@dataclass
class FailureTally:
    """Failed users of a cycle, told apart by whether they failed before (escrow attempt > 1)."""

    new: int = 0
    retried: int = 0

    def add(self, attempt: int | None) -> None:
        if attempt is not None and attempt > 1:
            self.retried += 1
        else:
            self.new += 1


@dataclass
class PageContext:
    cycle: ProvisioningCycle
    compiled: CompiledMapping
    policy: Policy
    types: TargetTypes
    matcher: Matcher
    exporter: Exporter
    log: LogWriter
    initial: bool
    sync_all: bool
    assignments: dict[str, tuple[str, ...]] = field(default_factory=dict)  # user id -> role values
    sleep: Callable[[float], None] = time.sleep
    honour_escrow_backoff: bool = True  # provision on demand retries an escrowed user at once
    deletion_hold: DeletionHold | None = None  # Prevent accidental deletions (deletion_hold.py)
    failures: FailureTally = field(default_factory=FailureTally)
    access: AccessStep | None = None  # Salesforce access beyond the profile and leavers (access.py)
    manager: ManagerStep | None = None  # ManagerId from Entra's manager (manager.py), when the settings ask for it
    repair_invalid_emails: bool = False  # after Re-match after refresh (organization.py)
    seen: SeenLinks = field(default_factory=SeenLinks)  # the links of the users read (a full cycle's deletions)

    @property
    def dry_run(self) -> bool:
        return self.cycle.dry_run
