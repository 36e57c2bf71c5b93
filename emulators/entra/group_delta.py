"""Graph /groups/delta with members@delta, as Graph documents it (https://learn.microsoft.com/graph/delta-query-groups,
https://learn.microsoft.com/graph/delta-query-overview):

- a round starts without a token (every group asked for, each with `members@delta` listing its current direct
  members, a large group spread over several pages), or with `$deltatoken=latest` (no data, only the deltaLink:
  "sync from now"); `@odata.nextLink` ($skiptoken) until a page carries `@odata.deltaLink` ($deltatoken);
- query parameters go on the first call only and travel inside the tokens; `$filter` takes only `id eq '...'`
  (or-ed); `$select=members` (or the older `$expand=members`) asks for membership changes;
- a tracking round lists only the groups whose membership changed since the token, with each changed member once:
  added as `{"@odata.type", "id"}`, removed with `"@removed": {"reason": "deleted"}`; a deleted group as
  `{"id", "@removed": {"reason": "changed"}}`;
- a token from before the state's generation answers 410 (start over).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from emulators.entra.responses import (
    GRAPH,
    delta_gone,
    delta_round,
    delta_state,
    encode_token,
    graph_error,
)
from emulators.server import Request, Response

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

MEMBERS_PER_PAGE = 500  # members@delta entries in one answer; a larger group continues on the next page


class GroupDeltaRoutes:
    def __init__(self, app: EntraApp) -> None:
        self.app = app
        self.page_size = MEMBERS_PER_PAGE
        self.rounds: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.round_ids = itertools.count(1)
        app.router.add("GET", GRAPH + "/groups/delta(?:\\(\\))?", "GET /v1.0/groups/delta", app.authed(self.delta))

    @property
    def state(self):
        return self.app.state

    def delta(self, request: Request) -> Response:
        state, q = self.state, request.query
        if "$skiptoken" in q:
            found = delta_round(self.rounds, q["$skiptoken"], state.delta_generation)
            if found is None:
                return delta_gone()
            round_, token = found
            return self._page(request, round_, token["o"])
        if "$deltatoken" in q and q["$deltatoken"] != "latest":
            token = delta_state(q["$deltatoken"], state.delta_generation)
            if token is None:
                return delta_gone()
            return self._tracking(request, token)
        ids = None
        if q.get("$filter"):
            ids = re.findall(r"id\s+eq\s+'([^']+)'", q["$filter"])
            if not ids:
                return graph_error(400, "Request_UnsupportedQuery", "Unsupported query: delta only filters on id eq.")
        select = [p.strip() for p in q.get("$select", "").split(",") if p.strip()]
        members = "members" in select or q.get("$expand", "") == "members"
        select = [p for p in select if p != "members"] or ["displayName"]
        if q.get("$deltatoken") == "latest":
            link = self._link(request, state.last_sequence, select, ids, members)
            return Response.json(
                {"@odata.context": f"{request.base_url}/v1.0/$metadata#groups", "value": [], "@odata.deltaLink": link}
            )
        groups = [g for g in state.groups if ids is None or g in set(ids)]
        entries = []
        for gid in groups:
            current = state.groups[gid]["members"]
            entries.append((gid, [(m, True) for m in current] if members else []))
        return self._page(request, self._start(entries, select, ids, members), 0)

    def _tracking(self, request: Request, token: dict[str, Any]) -> Response:
        state = self.state
        wanted = set(token["ids"]) if token.get("ids") else None
        start = bisect.bisect_right(state.membership_changes, (token["s"], "\uffff"))
        net: dict[str, OrderedDict[str, bool]] = OrderedDict()
        for _, gid, member, added in state.membership_changes[start:]:
            if wanted is None or gid in wanted:
                net.setdefault(gid, OrderedDict())[member] = added
                net[gid].move_to_end(member)
        entries = [(gid, list(changes.items()) if token["m"] else []) for gid, changes in net.items()]
        return self._page(request, self._start(entries, token["sel"], token.get("ids"), token["m"]), 0)

    def _start(self, entries: list, select: list[str], ids: list[str] | None, members: bool) -> dict[str, Any]:
        """A round: its entries flattened to (group, (member, added) or None) units, served a page's worth at a time."""
        units = [(gid, change) for gid, changes in entries for change in (changes or [None])]
        rid = str(next(self.round_ids))
        round_ = {"rid": rid, "units": units, "end": self.state.last_sequence, "sel": select, "ids": ids,
                  "m": members, "g": self.state.delta_generation}  # fmt: skip
        self.rounds[rid] = round_
        while len(self.rounds) > 200:
            self.rounds.popitem(last=False)
        return round_

    def _page(self, request: Request, round_: dict[str, Any], offset: int) -> Response:
        chunk = round_["units"][offset : offset + self.page_size]
        by_group: OrderedDict[str, list[tuple[str, bool]]] = OrderedDict()
        for gid, change in chunk:
            by_group.setdefault(gid, [])
            if change is not None:
                by_group[gid].append(change)
        value = [self._group(gid, round_["sel"], changes, round_["m"]) for gid, changes in by_group.items()]
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}/v1.0/$metadata#groups", "value": value}
        if offset + self.page_size < len(round_["units"]):
            token = encode_token({"r": round_["rid"], "o": offset + self.page_size})
            body["@odata.nextLink"] = f"{request.base_url}/v1.0/groups/delta?$skiptoken={token}"
        else:
            body["@odata.deltaLink"] = self._link(request, round_["end"], round_["sel"], round_["ids"], round_["m"])
        return Response.json(body)

    def _group(self, gid: str, select: list[str], changes: list[tuple[str, bool]], members: bool) -> dict[str, Any]:
        group = self.state.groups.get(gid)
        if group is None:
            return {"id": gid, "@removed": {"reason": "changed"}}
        shaped = {"id": gid, **{p: group.get(p) for p in select if p != "id"}}
        if members and changes:
            shaped["members@delta"] = [self._member(member, added) for member, added in changes]
        return shaped

    def _member(self, member: str, added: bool) -> dict[str, Any]:
        kind = "group" if member in self.state.groups else "user"
        entry = {"@odata.type": f"#microsoft.graph.{kind}", "id": member}
        if not added:
            entry["@removed"] = {"reason": "deleted"}
        return entry

    def _link(self, request: Request, sequence: int, select: list[str], ids: list[str] | None, members: bool) -> str:
        token = encode_token({"g": self.state.delta_generation, "s": sequence, "sel": select, "ids": ids, "m": members})
        return f"{request.base_url}/v1.0/groups/delta?$deltatoken={token}"
