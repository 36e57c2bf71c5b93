"""Match: find the Salesforce user of each source user that has no link yet.

Matching attributes are tried in precedence order (Username first in the default mapping). Two ways to look:
per page, one SOQL `WHERE attr IN (...)` for the page's values (SalesforceClient.find_users); or, for an
initial cycle over many unlinked users, an index of the org's users read once with a few paged queries
(2,000 rows a call), which costs far fewer calls than one lookup per page when most users are new. The index
holds each user's record with the fields a match needs (values only, one tuple a user), so a match found in it
costs no further call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from provisioning.engine.items import ItemError, TargetState, WorkItem
from provisioning.engine.writer import ProfileCache, SalesforceWriter

NOT_QUERYABLE = frozenset({"ProfileName", "PermissionSets", "Id"})
INDEX_THRESHOLD = 2000  # unlinked users from which reading an index is cheaper than per-page lookups


def target_fields(target_attributes: Iterable[str]) -> list[str]:
    """Salesforce fields read for a matched user: what the mappings write, plus Id, IsActive, ProfileId."""
    fields = dict.fromkeys(["Id", "IsActive", "ProfileId", "Username"])
    for name in sorted(target_attributes):
        if name not in NOT_QUERYABLE and name.replace("_", "").isalnum():
            fields[name] = None
    return list(fields)


def key(value: Any) -> str:
    return str(value).strip().lower()


class Matcher:
    def __init__(self, client: SalesforceWriter, fields: Sequence[str], profiles: ProfileCache) -> None:
        self.client = client
        self.fields = list(fields)
        self.profiles = profiles
        self.index: dict[str, dict[str, list[str]]] | None = None
        self.records: dict[str, tuple] = {}  # Id -> the values of `index_fields`, read with the index
        self.index_fields: list[str] = []

    def build_index(self, attributes: Sequence[str]) -> None:
        """Read every Salesforce user's matching values and record once (initial cycles with many new users)."""
        names = [a for a in dict.fromkeys(attributes) if a not in NOT_QUERYABLE and a.replace("_", "").isalnum()]
        fields = list(dict.fromkeys(["Id", *self.fields, *names]))
        index: dict[str, dict[str, list[str]]] = {name: {} for name in names}
        records: dict[str, tuple] = {}
        soql = f"SELECT {', '.join(fields)} FROM User"  # noqa: S608 - field names checked by target_fields and above
        for record in self.client.query(soql):
            records[record["Id"]] = tuple(record.get(name) for name in fields)
            for name in names:
                value = record.get(name)
                if value not in (None, ""):
                    index[name].setdefault(key(value), []).append(record["Id"])
        self.index, self.records, self.index_fields = index, records, fields

    def target_state(self, record: dict) -> TargetState:
        values = {name: record.get(name) for name in self.fields if name not in ("Id", "IsActive", "ProfileId")}
        profile_name = self.profiles.name_of(record.get("ProfileId"))
        if profile_name is not None:
            values["ProfileName"] = profile_name
        return TargetState(id=record["Id"], active=bool(record.get("IsActive")), values=values)

    def match(self, items: Sequence[WorkItem], match_values: dict[str, list[tuple[str, Any]]]) -> None:
        """Set item.target (and the matching step's note) for each item; `match_values` by source id."""
        pending = [item for item in items if item.source_id in match_values]
        level = 0
        while pending:
            by_attribute: dict[str, list[WorkItem]] = {}
            for item in pending:
                pairs = match_values[item.source_id]
                if level < len(pairs):
                    by_attribute.setdefault(pairs[level][0], []).append(item)
                elif not item.match_note:
                    tried = ", ".join(f"{name} = {value!r}" for name, value in pairs) or "no matching value"
                    item.match_note = f"No matching user was found in Salesforce ({tried})."
            pending = []
            for attribute, group in by_attribute.items():
                values = [match_values[item.source_id][level][1] for item in group]
                found = self._lookup(attribute, values)
                for item in group:
                    value = match_values[item.source_id][level][1]
                    records = found.get(key(value), [])
                    if len(records) == 1:
                        item.target = self.target_state(records[0])
                        item.target_id = records[0]["Id"]
                        item.target_name = records[0].get("Username") or ""
                        item.match_note = f"Matched the Salesforce user {item.target_id} on {attribute} = {value!r}."
                    elif len(records) > 1:
                        ids = ", ".join(r["Id"] for r in records)
                        item.fail(
                            ItemError(
                                "DuplicateTargetEntries",
                                f"Several Salesforce users have {attribute} = {value!r} ({ids}).",
                                "Remove or rename the duplicates in Salesforce so that one user matches.",
                                step="matching",
                            )
                        )
                    else:
                        pending.append(item)
            level += 1
            if level > 10:
                break

    def _lookup(self, attribute: str, values: list[Any]) -> dict[str, list[dict]]:
        """Salesforce users whose `attribute` is one of `values`, keyed by the lower-cased value."""
        wanted = [str(v) for v in values if v not in (None, "")]
        if not wanted:
            return {}
        if self.index is not None and attribute in self.index:
            ids = dict.fromkeys(i for v in wanted for i in self.index[attribute].get(key(v), []))
            records = [dict(zip(self.index_fields, self.records[i], strict=True)) for i in ids]
        else:
            records = self.client.find_users(attribute, wanted, self.fields)
        found: dict[str, list[dict]] = {}
        for record in records:
            value = record.get(attribute)
            if value not in (None, ""):
                found.setdefault(key(value), []).append(record)
        return found
