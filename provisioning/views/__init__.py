"""Views of the console: the Applications list and each application's blade (see base.BLADE_NAV)."""
