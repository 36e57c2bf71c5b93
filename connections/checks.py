"""Start-up check: the configured encryption keys are usable."""

from django.core import checks

from connections import crypto


@checks.register(checks.Tags.security, deploy=False)
def check_encryption_keys(app_configs, **kwargs):
    try:
        crypto.fernet()
    except Exception as exc:  # ImproperlyConfigured with a message naming the bad entry
        return [checks.Error(str(exc), id="connections.E001")]
    return []
