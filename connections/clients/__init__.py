"""Clients for the two remote systems: Salesforce (target) and Microsoft Graph / Entra (source)."""
