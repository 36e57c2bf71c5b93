"""Settings for the test suite: the real settings module with test-friendly environment defaults."""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
# A fixed test key (never used outside tests).
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "hXhR4tqYk0s0f1o5E3a2vYzv1q0S8mG6tC5s2cXwz5U=")
os.environ.setdefault("CONSOLE_LOCAL_DIR", os.path.join(tempfile.gettempdir(), "console-tests"))
os.environ.setdefault("Q_SYNC", "true")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from console.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast sign-ins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# A file (not in-memory) SQLite test database, so that a real qcluster process started by the integration tests
# shares it; one file per test run because several runs may share the machine.
if DATABASES["default"]["ENGINE"] == "console.sqlite":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"console-test-{os.getpid()}.sqlite3")
    }
# Integration tests give their qcluster a queue of its own (several runs may share one Redis).
if os.environ.get("TEST_Q_QUEUE"):
    Q_CLUSTER["cluster_name"] = os.environ["TEST_Q_QUEUE"]  # noqa: F405
