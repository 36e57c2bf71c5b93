"""gunicorn's settings for the console's web process (read from the environment; see README, "Production")."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 (behind the proxy)
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))  # Test Connection and provision on demand wait for remote systems
graceful_timeout = 30
# The TLS-terminating proxy's address, whose X-Forwarded-* headers gunicorn trusts (Django trusts them through
# BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Query strings are left out: a log line never carries more than the path.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
