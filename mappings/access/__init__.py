"""Salesforce access beyond the profile, defined once per app role: a Salesforce Role (UserRole), permission sets and
permission set groups, permission set licences, public groups and queues, and feature-licence flags.

- `models.py`: the org's catalogue (OrgAccessItem, read by Refresh from Salesforce), each app role's access
  (AppRoleAccess, with its precedence) and the application's leaver settings (AccessSettings).
- `catalogue.py`: Refresh from Salesforce (one SOQL per kind of item) and what it finds deleted in the org.
- `effective.py`: a user's effective access from their app roles, with the role that gave each piece: the union of
  multi-valued access, single-valued access by precedence. The engine, the Salesforce access page and the Users and
  groups page all call it.
"""
