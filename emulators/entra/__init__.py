"""Emulated Entra ID: the v2.0 token endpoint with discovery, and the Microsoft Graph v1.0 routes provisioning reads."""
