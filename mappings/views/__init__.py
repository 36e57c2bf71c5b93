"""Views of the Mappings section of the Provisioning tab, and of Users and groups (assignments and app roles)."""
