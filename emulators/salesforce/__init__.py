"""Emulated Salesforce Sandbox: SOAP partner login, OAuth client credentials and the REST API for Users."""
