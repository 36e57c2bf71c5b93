"""The source directory (Microsoft Entra ID) as mappings see it: one place for who is assigned to the enterprise
application and for what a source user looks like to the expression language.

- `assignments.py`: the assignment reader (own, direct group and nested group assignments; Default Access gives
  no role) and the special app-role ids. The engine, the Users and groups page, provision on demand and the
  expression tester all read assignments through it, so they cannot disagree.
- `snapshot.py` and `models.py`: the stored snapshot of what the reader read. Cycles refresh it and provision from
  that read; the Users and groups page lists it without a Graph call; changes made on the page go into it at once.
- `warnings.py`: the warnings computed when the snapshot is refreshed (Default Access, several roles, ...).
- `users.py`: the source user: Graph's properties plus Entra's pseudo-attributes (appRoleAssignments,
  IsSoftDeleted, objectId), and the $select a mapping needs.
"""
