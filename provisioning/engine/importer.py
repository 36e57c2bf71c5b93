"""Import: the source users from Microsoft Graph, page by page (999 users a page, only the attributes the mappings
read). Users are never held beyond a page. What a source user looks like and who is assigned are the
directory's (mappings/directory/): this module only reads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from connections.clients import shapes
from connections.clients.errors import NotFound, RemoteError
from connections.clients.graph import GraphClient

BATCH_SIZE = 20  # Graph JSON batch limit
T = TypeVar("T")
_DONE = object()


def read_ahead(pages: Iterable[T]) -> Iterator[T]:
    """The same pages, the next one read from Graph (in a thread) while the caller works on the current one: a full
    read waits for Graph only when the engine is faster than Graph. At most one page waits; an error of the read is
    raised where the page would have come; a caller that stops early stops the reading."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        ready.put((page, None), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            ready.put((_DONE, exc))

    reader = threading.Thread(target=produce, name="graph-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = ready.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        while reader.is_alive():  # unblock a producer waiting to put, then let it end
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass


class SourceReader:
    """Reads users from one Entra tenant for one cycle."""

    def __init__(self, graph: GraphClient, select: Sequence[str], expand: str | None = None) -> None:
        self.graph = graph
        self.select = list(select)
        self.expand = expand  # e.g. the manager's id ("manager($select=id)"), on full reads and reads by id

    # Users -------------------------------------------------------------------------------------
    def all_users(self, also: Sequence[str] = ()) -> Iterator[list[dict]]:
        """Every user of the tenant, 999 per page (with the expanded navigation property, None where there is none;
        `also`: properties read besides the selected ones); the next page is read while this one is provisioned."""
        select = [*self.select, *(name for name in also if name not in self.select)]
        for page in read_ahead(self.graph.iter_users(select, expand=self.expand)):
            if self.expand:
                name = self.expand.split("(", 1)[0]
                for user in page:
                    user.setdefault(name, None)
                    expanded = user[name]
                    documented = isinstance(expanded, dict) and isinstance(expanded.get("id"), str)
                    if expanded is not None and not documented:
                        del user[name]  # not the documented shape: unknown, read again on its own (manager.py)
            yield page

    def delta(self, delta_link: str | None) -> Iterator[list[dict]]:
        """Changed users since `delta_link` (every user when None); DeltaExpired when it is too old."""
        return self.graph.delta(self.select, delta_link)

    @property
    def last_delta_link(self) -> str | None:
        return self.graph.last_delta_link

    def latest_delta_link(self) -> str | None:
        """A delta link meaning "from now on", taken before a full read so no change falls between the two."""
        select = ",".join(self.select)
        for _page in self.graph.delta(self.select, f"users/delta?$deltatoken=latest&$select={select}"):
            pass
        return self.graph.last_delta_link

    def fetch_users(self, ids: Sequence[str]) -> tuple[list[dict], list[str], dict[str, RemoteError]]:
        """Users by id through JSON batches of 20: (found, ids that no longer exist, per-id errors)."""
        found: list[dict] = []
        missing: list[str] = []
        errors: dict[str, RemoteError] = {}
        select = ",".join(self.select)
        expand = f"&$expand={self.expand}" if self.expand else ""
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = list(ids[start : start + BATCH_SIZE])
            requests = [
                {"id": str(i), "method": "GET", "url": f"/users/{user_id}?$select={select}{expand}"}
                for i, user_id in enumerate(chunk)
            ]
            answers = self.graph.batch(requests)
            for i, user_id in enumerate(chunk):
                answer = answers.get(str(i)) or {}
                status = int(answer.get("status") or 0)
                if status == 200:
                    try:
                        found.append(shapes.graph_object(answer.get("body"), f"GET /users/{user_id} (in a JSON batch)"))
                    except shapes.UnexpectedAnswer as exc:
                        errors[user_id] = exc
                elif status == 404:
                    missing.append(user_id)
                else:
                    body = answer.get("body") or {}
                    message = (body.get("error") or {}).get("message") or f"HTTP {status}"
                    errors[user_id] = (NotFound if status == 404 else RemoteError)(
                        f"Reading the user from Microsoft Graph failed: {message}", code=f"Graph{status}"
                    )
        return found, missing, errors


def is_removed(raw: dict) -> bool:
    """A delta entry for a deleted user (soft: reason "changed", or permanent: "deleted")."""
    return "@removed" in raw
