"""gunicorn settings for the web unit (deploy/systemd/audit-workflow-web.service passes this file
with -c). The scheduler is never started in a worker: run `audit-workflow scheduler` beside it."""

import os

# nginx on the same machine is the only client; it forwards the real client's address.
bind = os.environ.get("AUDIT_WORKFLOW_BIND", "127.0.0.1:8000")
# Several synchronous workers: each request is short, and an upload is parsed within one.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Parsing a 20 MB register import can take a while on a small machine.
timeout = 120
graceful_timeout = 30
# Restart workers now and then, so a slow leak in any library never builds up.
max_requests = 2000
max_requests_jitter = 200
# Error log to stderr (the journal). No access log here: nginx keeps one without link tokens.
errorlog = "-"
loglevel = "info"
