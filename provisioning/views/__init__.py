"""Views of the console: the Applications list and each application's blade (nav: console.views.BLADE_NAV)."""
