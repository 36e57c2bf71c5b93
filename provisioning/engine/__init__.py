"""The provisioning engine: a cycle reads Entra page by page and runs each page through the pipeline.

    import (importer.py) -> scope (scope.py) -> match (matcher.py) -> evaluate mappings (mapper.py)
      -> access and manager overlay (access.py, manager.py) -> plan (planner.py) -> hold deletions (deletion_hold.py)
      -> freeze leavers (leavers.py) -> export (exporter.py) -> refused deactivations (leavers.py)
      -> reconcile access (access.py), manager second pass (manager.py) -> record (record.py, grants.py, log.py)

One module per step, each testable without the others; pipeline.py runs them in order for one page, with the
page's retry of a transient Salesforce failure. Around them:
- items.py: the unit of work (WorkItem) and its plan; context.py: what every page of a cycle shares.
- cycle.py: CycleRunner (full and incremental reads, unassignments, escrows due, held deletions released) and
  run_claimed_cycle(), the entry point for a caller holding the job's claim (lock.py).
- lifecycle.py: running_cycle(), the one context manager every kind of cycle runs in; ENDINGS, the one table
  from exception to cycle status, code, message and recommendation; the CycleOutcome it returns.
- escrow.py: when a failed user is tried again; writer.py: what the engine asks of Salesforce (SalesforceWriter).

Seams for what comes next:
- The source: who is assigned and what a source user looks like are mappings/directory/'s (AssignmentReader,
  source_user). Each cycle refreshes the stored assignment snapshot (mappings/directory/snapshot.py) and provisions
  from that read; an incremental refresh would feed the snapshot's apply() and read StoredAssignments instead.
- The target: SalesforceWriter is all the engine calls; a new stage adds a module, its calls to the protocol, and
  one line in pipeline.process(), as Salesforce access did (access.py with grants.py, drift.py and leavers.py, and
  manager.py). A user's effective access is mappings/access/effective.py's, which the pages call too.
- Deprovisioning: scope.py decides who is out of scope, planner.py what that means (disable, skip), and
  deletion_hold.py holds back mass deactivations; nothing deactivates anywhere else.
- What reacts to a cycle (quarantine, emails, held-deletion bookkeeping) takes the CycleOutcome in
  provisioning/operations/after_cycle.py; the engine never imports provisioning/operations/.
"""
