"""Measure what the emulators sustain: small keep-alive requests per second and memory for a large tenant."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import ssl
import time
from typing import Any
from urllib.parse import quote, urlsplit

import msal
import requests
from simple_salesforce import SalesforceLogin

from emulators.runtime import Emulators, running_emulators


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _worker(info: dict[str, Any], duration: float, paths: list[tuple[str, str, dict[str, str]]], out) -> None:
    ctx = ssl.create_default_context(cafile=info["ca_bundle"])
    conns: dict[str, http.client.HTTPSConnection] = {}
    done, deadline, i = 0, time.monotonic() + duration, 0
    while time.monotonic() < deadline:
        base, path, headers = paths[i % len(paths)]
        i += 1
        conn = conns.get(base)
        if conn is None:
            parts = urlsplit(base)
            conn = conns[base] = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            done += 1
    out.put(done)


def requests_per_second(emu, duration: float = 5.0, workers: int = 4) -> dict[str, Any]:
    """Keep-alive GETs from `workers` processes against both emulators (users by id, SOQL by username)."""
    info = emu.info
    session = emu.session()
    sf = info["salesforce"]
    soap = requests.post  # noqa: F841 - login through the real client below keeps the path honest
    sid, _ = SalesforceLogin(username=sf["username"], password=sf["password"], security_token=sf["security_token"],
                             scratch_url=sf["login_url"], session=session)  # fmt: skip
    e = info["entra"]
    app = msal.ConfidentialClientApplication(e["client_id"], client_credential=e["client_secret"],
                                             authority=f"{e['authority_host']}/{e['tenant_id']}",
                                             instance_discovery=False, http_client=session)  # fmt: skip
    token = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
    users = emu.control.salesforce_users()[:50]
    entra_ids = list(emu.entra_app.state.users)[:50]
    paths = []
    for n in range(50):
        if n < len(entra_ids):
            paths.append((e["authority_host"], f"/v1.0/users/{entra_ids[n]}?$select=id,userPrincipalName",
                          {"Authorization": f"Bearer {token}"}))  # fmt: skip
        if n < len(users):
            soql = f"SELECT Id, Username, IsActive FROM User WHERE Username = '{users[n]['Username']}'"
            paths.append((sf["instance_url"], f"/services/data/v59.0/query/?q={quote(soql)}",
                          {"Authorization": f"Bearer {sid}"}))  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(info, duration, paths, queue)) for _ in range(workers)]
    start = time.monotonic()
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    elapsed = time.monotonic() - start
    return {"requests": total, "seconds": round(duration, 1), "wall_seconds": round(elapsed, 1),
            "requests_per_second": round(total / duration)}  # fmt: skip


def run(seed_large: int = 100_000, duration: float = 5.0) -> dict[str, Any]:
    before = rss_mb()
    t0 = time.monotonic()
    large = Emulators(seed=seed_large)
    build_seconds = time.monotonic() - t0
    after = rss_mb()
    result: dict[str, Any] = {
        "users": len(large.entra_app.state.users) + len(large.entra_app.state.deleted_users),
        "salesforce_users": len(large.salesforce_app.state.users),
        "seed_build_seconds": round(build_seconds, 1),
        "memory_mb": round(after - before, 1),
    }
    large.start()
    try:
        result["throughput_100k"] = requests_per_second(large, duration)
    finally:
        large.stop()
    del large
    with running_emulators(seed=50) as emu:
        result["throughput_small"] = requests_per_second(emu, duration)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
