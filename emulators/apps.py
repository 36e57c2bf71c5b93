from django.apps import AppConfig


class EmulatorsConfig(AppConfig):
    """Only registers the `emulators` management command; the package imports nothing from the apps."""

    name = "emulators"
    verbose_name = "Bundled emulators (test doubles)"
