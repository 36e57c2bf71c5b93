"""What DefaultDomain() and SelectUniqueValue() look up, for the engine, provision on demand, dry runs and the
expression tester alike: the tenant's default verified domain through Microsoft Graph, and which candidate values a
Salesforce User field already holds, through the Salesforce client's SOQL.

SelectUniqueValue's candidates are checked in one query per candidate set (`WHERE field IN (...)`), remembered for
the page being processed, and a value picked for one user counts as taken for the rest of the cycle, so two new
users of one cycle never get the same value. Salesforce compares these values without regard to case, as it does
for usernames.
"""

from __future__ import annotations

from collections.abc import Sequence

from connections.clients.errors import RemoteError, RequestLimitExceeded
from connections.clients.graph import GraphClient
from mappings.expressions import EvaluationError
from mappings.targets import VIRTUAL_TARGET_ATTRIBUTES


class GraphTenant:
    """The source tenant, read once: its default verified domain (TenantDirectory)."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph
        self._domain: str | None = None
        self._read = False

    def read_now(self) -> GraphTenant:
        """Read the domain at once (RemoteError raised as is: the caller decides what a failure ends)."""
        self._domain, self._read = self.graph.default_domain(), True
        return self

    def default_domain(self) -> str | None:
        if not self._read:
            try:
                self._domain = self.graph.default_domain()
            except RemoteError as exc:
                raise EvaluationError(f"reading the tenant's default domain from Microsoft Graph failed: {exc}")
            self._read = True
        return self._domain


class SalesforceUniqueness:
    """The values Salesforce users hold, for SelectUniqueValue (TargetDirectory)."""

    def __init__(self, client) -> None:
        self.client = client  # anything with find_users(field, values, fields): SalesforceClient, its dry run
        self.queries = 0
        self._known: dict[tuple[str, str], bool] = {}  # (field, value folded) -> taken, for this page
        self._reserved: set[tuple[str, str]] = set()  # picked in this cycle

    def start_page(self) -> None:
        self._known.clear()

    def taken(self, attribute: str, candidates: Sequence[str]) -> set[str]:
        if attribute in VIRTUAL_TARGET_ATTRIBUTES:
            raise EvaluationError(f"{attribute} is not a Salesforce field: its values cannot be checked for uniqueness")
        unknown = [c for c in candidates if (attribute, c.lower()) not in self._known]
        if unknown:
            try:
                records = self.client.find_users(attribute, unknown, [attribute])
            except RequestLimitExceeded:
                raise  # the org's daily allowance: the cycle pauses, no user fails for it
            except (RemoteError, ValueError) as exc:
                raise EvaluationError(f"checking {attribute} for uniqueness in Salesforce failed: {exc}") from None
            self.queries += 1
            held = {str(r.get(attribute)).lower() for r in records if r.get(attribute) not in (None, "")}
            for candidate in unknown:
                self._known[(attribute, candidate.lower())] = candidate.lower() in held
        return {
            c for c in candidates if self._known[(attribute, c.lower())] or (attribute, c.lower()) in self._reserved
        }

    def reserve(self, attribute: str, value: str) -> None:
        self._reserved.add((attribute, value.lower()))
