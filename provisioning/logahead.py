"""Two hands on one download: the next chunk's query runs in a thread while the current chunk is formatted, and
a zip member's compression runs in a thread while the next chunk's CSV text is written.

Both lean on C code that releases the GIL: psycopg while it waits for PostgreSQL, zlib while it deflates. Only one
piece of work is ever ahead, so a download holds at most two chunks, and when the download stops early (the
client went away) the thread's piece is waited for before the connection is handed back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections

T = TypeVar("T")
# Off: every piece of work in the caller's thread, one after the other (bench_logs --serial, to show the gain).
OVERLAP = True


def _settle(future: Future | None) -> None:
    """Wait for a piece of work whose result is no longer wanted (its error included)."""
    if future is not None and not future.cancel():
        try:
            future.result()
        except Exception:  # noqa: S110  (the download has already stopped; its own error is the one raised)
            pass


def read_ahead(chunks: Iterator[T], using: str = DEFAULT_DB_ALIAS, *, own_connection: bool = False) -> Iterator[T]:
    """The items of `chunks`, each next one read in a thread while the caller handles the current one.

    By default the thread runs the queries on this thread's connection (the same transaction, and a test's data),
    one at a time: a download does not query while it formats, and psycopg serialises the rare query it does make.
    A caller that writes in transactions while the thread reads (a cycle's pages) must pass `own_connection`: the
    thread then reads on a connection of its own, closed when the reading ends. On a shared connection a read landing
    between Django's COMMIT and its return to autocommit opens a transaction that the switch then refuses ("can't
    change 'autocommit' now"), and a read inside the caller's transaction would see its writes before they commit.
    An error of a read is raised where its chunk would have come."""
    connection = connections[using]
    if not own_connection:
        connection.inc_thread_sharing()

    def advance() -> tuple[bool, T | None]:
        if not own_connection:
            connections[using] = connection  # this thread's name for the connection is the caller's
        try:
            return True, next(chunks)
        except StopIteration:
            return False, None

    def close_own() -> None:
        connections[using].close()  # the thread's own connection (a worker thread's is never closed by Django)

    reader = ThreadPoolExecutor(1, thread_name_prefix="log-read-ahead")
    pending: Future | None = None
    try:
        pending = reader.submit(advance)
        while True:
            more, item = pending.result()
            pending = None
            if not more:
                return
            pending = reader.submit(advance)
            yield item  # type: ignore[misc]
    finally:
        _settle(pending)
        if own_connection:
            try:
                reader.submit(close_own).result()
            except Exception:  # noqa: S110  (a connection that fails to close is gone either way)
                pass
        reader.shutdown(wait=True)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        if not own_connection:
            connection.dec_thread_sharing()


class WriteBehind:
    """Runs write(data) calls in a thread, one at a time and in order; `flush()` waits for the last one. What the
    writes produce may be read by the caller only after a flush."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self.write = write
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="log-write-behind")
        self.pending: Future | None = None

    def submit(self, data: bytes) -> None:
        self.flush()
        self.pending = self.writer.submit(self.write, data)

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Stop: the write under way is waited for (its error left to the caller's own), none is started."""
        _settle(self.pending)
        self.pending = None
        self.writer.shutdown(wait=True)
