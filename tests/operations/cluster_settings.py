"""Settings of the qcluster process the operations integration tests start: the test settings, but mail goes to
the SMTP server named by EMAIL_HOST/EMAIL_PORT (the test's aiosmtpd) instead of the in-memory outbox."""

import os

from tests.settings import *  # noqa: F403

if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
