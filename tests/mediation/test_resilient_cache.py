"""Redis unreachable: what the site keeps meanwhile is the process's, whatever its threads."""

import threading

from mediation.cache import ResilientRedisCache
from tests.mediation.test_degraded import closed_port

OPTIONS = {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}


def test_the_threads_of_a_server_share_what_is_kept_while_redis_is_down():
    """gunicorn's threaded workers: Django gives each thread its own cache object.
    A limit counted while Redis is down (5 attempts an hour) must count the
    process's attempts, not each thread's, and a copy kept by one thread serve the
    others."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    ResilientRedisCache(location, OPTIONS).set("tentatives", 5)
    seen = []
    other = threading.Thread(
        target=lambda: seen.append(ResilientRedisCache(location, OPTIONS).get("tentatives"))
    )
    other.start()
    other.join()
    assert seen == [5]


def test_two_sites_sharing_a_redis_keep_apart_while_it_is_down():
    location = f"redis://127.0.0.1:{closed_port()}/0"
    ResilientRedisCache(location, {**OPTIONS, "KEY_PREFIX": "site-a"}).set("compte", 1)
    assert ResilientRedisCache(location, {**OPTIONS, "KEY_PREFIX": "site-b"}).get("compte") is None


def test_values_are_said_shared_until_redis_fails():
    """The response cache keeps only small answers in a process's memory (see
    response_cache.LOCAL_MAX_BYTES): it asks whether values still go to Redis."""
    down = ResilientRedisCache(f"redis://127.0.0.1:{closed_port()}/0", OPTIONS)
    assert down.is_shared()  # not known down yet
    down.set("réponse", b"...")
    assert not down.is_shared()


def test_while_redis_is_down_copies_go_to_a_small_store_of_the_process(monkeypatch):
    from django.core.cache import cache

    from mediation import response_cache

    down = ResilientRedisCache(f"redis://127.0.0.1:{closed_port()}/0", OPTIONS)
    down.set("réponse", b"...")  # Redis found down
    monkeypatch.setattr(cache, "is_shared", down.is_shared, raising=False)
    assert response_cache._copies() is response_cache._local
    assert response_cache._local._max_entries == 3 * response_cache.LOCAL_ANSWERS
