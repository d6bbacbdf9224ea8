"""gunicorn's settings in production: `gunicorn mediation.wsgi` reads this file
from the project's directory (each can be changed by its environment variable).

Threaded workers (`gthread`): a page kept per data version (a few milliseconds)
is not queued behind a search being computed in the same worker, and a
visitor's keep-alive connection waits in the worker's poller, not in a thread.
Two workers per core (eight at most): Python computes a page with the GIL held, so processes,
not threads, share the cores; threads cover the time spent waiting for
PostgreSQL and Redis.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Each thread may keep one PostgreSQL connection open (CONN_MAX_AGE): a server
# holds up to workers × threads of them, 32 by default at most, so that two
# servers stay under PostgreSQL's 100 (`max_connections`) with room for the rest.
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 8)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5  # seconds a visitor's connection stays open between two pages
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 20
# A worker is replaced after this many requests (spread so they don't all
# restart at once): memory a library would leak stays bounded.
max_requests = 5000
max_requests_jitter = 500
