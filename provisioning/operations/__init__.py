"""Operating provisioning: provision on demand, dry run, escrow retries, quarantine, held deletions, emails.

The engine calls in through provisioning/operations/hooks.py only; everything else here is called by views and
the management command.
"""
