"""Operating provisioning: what reacts to a finished cycle and what an administrator does around cycles.

- after_cycle.py: the one step that reacts to a CycleOutcome (quarantine, held deletions, emails);
- quarantine.py, deletions.py (Allow / Reject deletes), emails.py: what that step and the Overview use;
- on_demand.py, dry_run.py: provision one user now, a cycle that writes nothing;
- cli.py: the operations subcommands of `manage.py provisioning`.

These are the functions views, commands (and a future REST API) call. The engine (provisioning/engine/) never
imports this package: it returns an outcome, and provisioning/tasks.py hands it to after_cycle.
"""
