"""Settings of the qcluster process the browser tests start: the test settings, with mail sent over SMTP.

tests.settings keeps mail in memory; the worker's notification emails must reach the test's SMTP server.
"""

import os

from tests.settings import *  # noqa: F403

if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ["EMAIL_PORT"])
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
    EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""

# The worker's log is shown when a browser test fails: keep django-q's INFO lines.
LOGGING["root"]["level"] = "INFO"  # noqa: F405
