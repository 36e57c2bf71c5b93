"""Reading the next Graph page while the current one is provisioned keeps the pages, their order and their errors."""

from __future__ import annotations

import threading

import pytest

from connections.clients.errors import TransientError
from provisioning.engine.importer import read_ahead


def test_pages_come_in_order_and_a_read_error_arrives_where_its_page_would_have():
    def pages():
        yield [1]
        yield [2]
        raise TransientError("Graph did not answer")

    got = []
    with pytest.raises(TransientError, match="did not answer"):
        for page in read_ahead(pages()):
            got.append(page)
    assert got == [[1], [2]]


def test_a_caller_that_stops_early_stops_the_reading():
    read = []

    def pages():
        for n in range(1000):
            read.append(n)
            yield [n]

    for page in read_ahead(pages()):
        if page == [3]:
            break
    assert len(read) <= 6  # the page in hand, one waiting and one being read: never the rest of the tenant
    assert not [t for t in threading.enumerate() if t.name == "graph-read-ahead"]
