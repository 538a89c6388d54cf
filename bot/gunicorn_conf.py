"""gunicorn settings for the Procfile `web` process (configured by the environment alone)."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: one event loop per process, no thread hand-off per request. Measured on this 2-core machine
# (bench/): ~0.4 ms CPU per webhook against ~0.7 ms with gthread's thread pool. psycopg >= 3.1.14 and
# redis-py cooperate with gevent, so a slow console query does not hold up webhooks.
worker_class = os.environ.get("WEB_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("WEB_CONNECTIONS", "1000"))
threads = int(os.environ.get("WEB_THREADS", "8"))  # only for WEB_WORKER_CLASS=gthread
keepalive = 30  # LINE reuses connections; keep-alive saves a TCP handshake per webhook
timeout = 30
graceful_timeout = 10
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
