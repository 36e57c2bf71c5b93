"""The provisioning engine: import -> scope -> match -> map -> plan -> export -> log, page by page.

Entry point: provisioning.engine.cycle.run_cycle(job_pk, kind=None, ...).
"""
