"""The shared cache (Redis) that degrades instead of failing.

Nothing the site keeps in the cache is needed to answer: data versions, encoded
markers, rate-limit counts, geocoder answers. When Redis does not answer, each
call falls back to a cache in this process's memory (a miss the first time, the
process's own values afterwards): pages stay up, rate limits count per process,
and a warning is logged at most once a minute. After a failure Redis is left
alone for `RETRY_AFTER` seconds, so that an unreachable server (a timeout, not a
refused connection) costs one timeout every few seconds, not one per call.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds without calling Redis after it failed
WARN_EVERY = 60  # seconds between two warnings


class ResilientRedisCache(RedisCache):
    """Django's Redis cache; on a Redis error, the process's memory instead."""

    def __init__(self, server, params):
        super().__init__(server, params)
        # Django makes a cache object per thread (gunicorn's gthread workers run
        # several): named by its server and prefix, the memory is the process's,
        # shared by its threads (LocMemCache shares by name), not each thread's.
        name = f"fallback-{server!r}-{params.get('KEY_PREFIX', '')}"
        self._fallback = LocMemCache(name, {"TIMEOUT": params.get("TIMEOUT")})
        self._down_until = 0.0
        self._warned_at = float("-inf")
        self._lock = threading.Lock()

    def is_shared(self):
        """Whether values go to Redis, shared by every server (not known down)."""
        return time.monotonic() >= self._down_until

    def is_available(self):
        """Whether Redis answers now (for /healthz): a real round trip."""
        try:
            self._cache.get_client(write=True).ping()
        except Exception:
            return False
        return True

    def _failed(self, error):
        now = time.monotonic()
        with self._lock:
            self._down_until = now + RETRY_AFTER
            warn = now - self._warned_at >= WARN_EVERY
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Cache Redis injoignable (%s) : le site continue avec un cache par processus.",
                error,
            )

    def _call(self, name, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except Exception as error:
                self._failed(error)
        return getattr(self._fallback, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        return self._call("clear")


def cache_available(cache):
    """Whether `cache` answers (a per-process cache always does)."""
    check = getattr(cache, "is_available", None)
    return check() if check else True
