"""Bundled emulators of Salesforce (a sandbox org) and Microsoft Entra ID / Graph.

This package is a test double of the remote systems, not part of the provisioning path: the console, the tests,
the demo and the benchmarks point their connections at it when there is no internet. It speaks real HTTPS with a
throwaway CA (published as `ca_bundle`), so the unchanged simple-salesforce and msal libraries talk to it, and it
reproduces the errors a real org and tenant produce. It imports nothing from the Django apps.

    from emulators import running_emulators
    with running_emulators(seed=50) as emu:
        emu.info      # URLs, credentials, ca_bundle, control_url
        emu.control   # faults, latency, counters, state changes (also served over HTTPS at control_url)
"""

from emulators.runtime import Emulators, running_emulators

__all__ = ["Emulators", "running_emulators"]
