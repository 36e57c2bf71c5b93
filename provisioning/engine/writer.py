"""What the engine asks of Salesforce: the SalesforceWriter protocol the matcher, the exporter and the profile cache
are typed against, and the profile cache (ProfileName <-> ProfileId, read once a cycle).

connections.clients.salesforce.SalesforceClient implements it. A dry run uses the very same client built with
dry_run=True: reads go out, writes stop at its single `_request()` and are recorded, answered as if they had
succeeded (a Composite call carrying only queries is a read and goes out). A new pipeline stage that needs more of
Salesforce adds its calls here and to SalesforceClient, as the access steps did (query_many, write_access,
update_records), and a test can hand the engine any object that has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from connections.clients.salesforce import AccessOperation, RecordResult


class SalesforceWriter(Protocol):
    calls: int  # remote calls made so far (the cycle's counter)

    def ensure_signed_in(self) -> None:
        """Sign in unless already signed in; raises StopError when the credentials are refused."""

    def organization_id(self) -> str:
        """The ID of the org signed in to (engine/organization.py compares it with the recorded one)."""

    def query(self, soql: str) -> Iterable[dict]:
        """Every record of a SOQL query."""

    def find_users(self, field: str, values: Sequence[str], fields: Sequence[str]) -> list[dict]:
        """Users whose `field` is one of `values`, with `fields`."""

    def profiles(self) -> list[dict]:
        """[{"Id", "Name"}] of every profile of the org."""

    def create_users(self, records: Sequence[dict]) -> list[RecordResult]:
        """Create users; one result per record, in order."""

    def update_users(self, records: Sequence[dict]) -> list[RecordResult]:
        """Update users (each record carries "Id"); one result per record, in order."""

    # Optional: save_users(creates, updates) -> (create results, update results) writes both kinds in the same
    # calls (SalesforceClient); the exporter uses it when the client has it.
    # Optional: write_access_lanes(lanes) -> results lane by lane writes independent lanes of access operations a
    # few calls at a time (SalesforceClient); the access step uses it when the client has it.

    def query_many(self, queries: Sequence[str]) -> list[list[dict]]:
        """Several SOQL queries (five a call, inside Composite); every record of each, in order."""

    def write_access(self, operations: Sequence[AccessOperation]) -> list[RecordResult]:
        """Insert and delete assignments and memberships in the given order (collections inside Composite)."""

    def update_records(self, sobject: str, records: Sequence[dict]) -> list[RecordResult]:
        """Update records of one type, e.g. UserLogin to freeze users; one result per record, in order."""


class ProfileCache:
    """The org's profiles, read once per cycle: ProfileName -> ProfileId at export time."""

    def __init__(self, client: SalesforceWriter) -> None:
        self.client = client
        self._by_name: dict[str, str] | None = None
        self._by_id: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        if self._by_name is None:
            profiles = self.client.profiles()
            self._by_name = {p["Name"]: p["Id"] for p in profiles if p.get("Name") and p.get("Id")}
            self._by_id = {p["Id"]: p["Name"] for p in profiles if p.get("Name") and p.get("Id")}
        return self._by_name

    def id_of(self, name: str) -> str | None:
        by_name = self._load()
        if name in by_name:
            return by_name[name]
        folded = {n.lower(): i for n, i in by_name.items()}
        return folded.get(str(name).lower())

    def name_of(self, profile_id: str | None) -> str | None:
        if not profile_id:
            return None
        self._load()
        return self._by_id.get(profile_id) or next(
            (n for i, n in self._by_id.items() if i[:15] == profile_id[:15]), None
        )
