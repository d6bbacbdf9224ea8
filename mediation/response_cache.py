"""Whole anonymous responses, kept per version of the data.

A visitor without an account gets the same list, export, GeoJSON or territory
page as every other visitor until the directory changes. `cached` (a view
decorator; `method_decorator(cached)` on a DRF handler) keeps such a response —
its bytes, plain and gzipped — in the shared cache under a key made of:

- the directory's version (mediation/versioning.py): one primary-key query per
  request, moved after every committed change, so a change made through any
  server shows at the next request and nothing is ever served stale;
- the date in France: pages counting what was verified in the last twelve
  months move with the calendar;
- the scheme, host, path and query string (parameters sorted by name, repeated
  values kept in their order): lists embed absolute links to their next page;
- for the API, the negotiated media type (JSON, CSV, GeoJSON, an indent…);
  elsewhere the `Accept` header.

Only what is the same for everybody is kept or served:

- GET and HEAD without `Authorization`, without a session or messages cookie
  (the content is then that of an anonymous visitor with nothing pending); the
  exports, built from their address alone, are shared with API partners too;
- a 200, without cookies set, without a CSRF token, a CSP nonce, a message or a
  session change, without `private`/`no-store`, without a `Vary: Cookie` of the
  view's own, no larger than `MAX_BYTES` in Redis, `LOCAL_MAX_BYTES` in the
  process's memory (a larger export streams as before);
- not while this connection holds changes not yet committed (the version moves
  on commit: until then the cache would not know the rows changed — tests, whose
  transaction never commits, see their own changes).

The first request after a change builds the answer; others asking for it
meanwhile wait for its copy (at most `WAIT_SECONDS`) rather than build it too:
an export costs about a second, and partners ask for it together.

A hit costs the version query and one cache read; a streamed export is kept as
it streams, once it is complete. Responses carry an ETag (the content's digest,
or the view's own) and answer `If-None-Match` with a 304. The cache is the
site's default one, which degrades (mediation/cache.py): Redis unreachable, the
entries live in the process; none at all, every call is computed.
"""

import functools
import gzip
import hashlib
import re
import time
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse, StreamingHttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag

from mediation import versioning

KEY_PREFIX = "mediation:response:"
TTL = 600  # seconds; the key already changes when the data does
MAX_BYTES = 8 * 1024 * 1024  # a larger answer (an export of 100,000 places) is not kept
# Without Redis (none configured, or unreachable: see mediation/cache.py), copies
# are kept in the process's own memory, at most LOCAL_MAX_BYTES each (the
# region's largest, its GeoJSON, is about 1 MB); while Redis is unreachable, in a
# store of their own of LOCAL_ANSWERS answers: tens of megabytes per worker
# during an outage, not gigabytes.
LOCAL_MAX_BYTES = 2 * 1024 * 1024
LOCAL_ANSWERS = 30
_local = LocMemCache(
    "mediation-response-copies", {"TIMEOUT": TTL, "OPTIONS": {"MAX_ENTRIES": 3 * LOCAL_ANSWERS}}
)
# The first request after a change builds the answer; the others asking meanwhile
# wait for its copy, polling every POLL_SECONDS, at most WAIT_SECONDS; a builder
# gone silent for BUILD_SECONDS is no longer waited for.
BUILD_SECONDS = 30
WAIT_SECONDS = 3
POLL_SECONDS = 0.05
GZIP_MIN_BYTES = 200  # as GZipMiddleware: shorter answers are sent as they are
# Headers rebuilt at each answer rather than stored.
NOT_STORED = {"content-length", "content-encoding", "etag"}
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def cached(view):
    """Answer anonymous GET/HEAD requests of `view` from the response cache."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return respond(request, lambda: view(request, *args, **kwargs))

    return wrapper


def respond(request, build, *, stamp=None, tokens=False):
    """The cached answer to `request`, or `build()`'s, kept when it may be shared.

    `request` is Django's or DRF's (whose negotiated media type joins the key);
    `stamp`, the data version's, when the caller has already read it. `tokens`:
    the answer is built from its address alone, never from who asks (the
    exports), so partners with an API token share the copy too.
    """
    http = getattr(request, "_request", request)
    shareable = _shareable_request(request, http, tokens=tokens)
    if getattr(http, "_response_cache_asked", False) or not shareable:
        return build()  # asked already by an outer view of the same request, or not shared
    http._response_cache_asked = True
    key = _key(request, http, stamp or versioning.structures_version()[0])
    gzipped = _accepts_gzip(http)
    entry = _read(key, gzipped=gzipped)
    if entry is None and not cache.add(f"{key}:building", 1, BUILD_SECONDS):
        entry = _wait_for(key, gzipped=gzipped)
    if entry is not None:
        return _answer(http, *entry)
    try:
        response = build()
    except BaseException:
        _built(key)  # nothing will be kept: those waiting build their own
        raise
    _keep_when_complete(http, response, key)
    return response


def _wait_for(key, *, gzipped):
    """Another request is building this answer (the first after a change of the
    data: an export takes about a second): wait for its copy rather than build it
    again, at most `WAIT_SECONDS`, and not once the builder has given up (an answer
    that may not be kept)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        entry = _read(key, gzipped=gzipped)
        if entry is not None or cache.get(f"{key}:building") is None:
            return entry
    return None


def _built(key):
    """The answer for `key` is kept, or won't be: requests waiting for it go on."""
    cache.delete(f"{key}:building")


def _shareable_request(request, http, *, tokens):
    if http.method not in ("GET", "HEAD"):
        return False
    # People with a session never: what they see may be theirs.
    if settings.SESSION_COOKIE_NAME in http.COOKIES or CookieStorage.cookie_name in http.COOKIES:
        return False
    if tokens:
        return not versioning.has_uncommitted_changes()
    if "HTTP_AUTHORIZATION" in http.META or versioning.has_uncommitted_changes():
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def _key(request, http, stamp):
    pairs = parse_qsl(http.META.get("QUERY_STRING", ""), keep_blank_values=True)
    query = urlencode(sorted(pairs, key=lambda pair: pair[0]))  # stable: repeats keep order
    parts = [
        stamp,
        timezone.localdate().isoformat(),
        http.scheme,
        http.get_host(),
        http.path,
        query,
        # DRF's negotiated type; a page's own negotiation, if any, reads Accept.
        getattr(request, "accepted_media_type", None) or http.META.get("HTTP_ACCEPT", ""),
    ]
    return KEY_PREFIX + hashlib.sha1("\n".join(parts).encode()).hexdigest()


def _accepts_gzip(http):
    return bool(ACCEPTS_GZIP.search(http.META.get("HTTP_ACCEPT_ENCODING", "")))


def _read(key, *, gzipped):
    """(head, body, is gzipped) from the cache, or None."""
    head_key, body_key = f"{key}:head", f"{key}:{'gzip' if gzipped else 'plain'}"
    copies = _copies()
    found = copies.get_many([head_key, body_key])
    head = found.get(head_key)
    if head is None:
        return None
    if gzipped and body_key not in found and not head["gzip"]:
        # Not worth compressing: everybody gets the plain bytes.
        body_key = f"{key}:plain"
        found = copies.get_many([body_key])
        gzipped = False
    body = found.get(body_key)
    return None if body is None else (head, body, gzipped)


def _answer(http, head, body, gzipped):
    response = HttpResponse(body, status=200)
    for name, value in head["headers"]:
        response[name] = value
    etag = head["etag"]
    if head["gzip"]:
        patch_vary_headers(response, ["Accept-Encoding"])
    if gzipped:
        response["Content-Encoding"] = "gzip"
        if etag.startswith('"'):  # as GZipMiddleware does to the uncached answer
            etag = "W/" + etag
    response["ETag"] = etag
    not_modified = get_conditional_response(http, etag=etag)
    if not_modified is not None:
        for name in ("ETag", "Cache-Control", "Vary", "Last-Modified"):
            if name in response:
                not_modified[name] = response[name]
        return not_modified
    return response


def _keep_when_complete(http, response, key):
    """Store `response` once its bytes are known, if it may be shared."""
    if not _shareable_response(response) or _built_for_visitor(http):
        _built(key)
        return
    if isinstance(response, StreamingHttpResponse):
        # The middleware adds its own headers while the body streams: keep the view's.
        headers = _headers(response)
        response.streaming_content = _teed(http, response, response.streaming_content, key, headers)
    elif isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
        response.add_post_render_callback(lambda rendered: _store_rendered(http, rendered, key))
    else:
        _store_rendered(http, response, key)


def _shareable_response(response):
    if response.status_code != 200 or response.cookies or "Content-Encoding" in response:
        return False
    if any(name.startswith("_csp") for name in vars(response)):
        return False  # a policy of its own, which a cached copy would not carry
    cache_control = response.get("Cache-Control", "").lower()
    vary = response.get("Vary", "").lower()
    return not ("private" in cache_control or "no-store" in cache_control or "cookie" in vary)


def _built_for_visitor(http):
    """Whether the answer holds a CSRF token, a CSP nonce, a message or a session value."""
    if http.META.get("CSRF_COOKIE_NEEDS_UPDATE") or getattr(http, "_csp_nonce", None):
        return True
    messages = getattr(http, "_messages", None)
    session = getattr(http, "session", None)
    return (messages is not None and messages.added_new) or (
        session is not None and session.modified
    )


def _headers(response):
    return [(name, value) for name, value in response.items() if name.lower() not in NOT_STORED]


def _store_rendered(http, response, key):
    # Rendering may have asked for a token or a nonce.
    if not _shareable_response(response) or _built_for_visitor(http):
        _built(key)
        return
    body = response.content
    etag = response.get("ETag") or _digest(body)
    response.setdefault("ETag", etag)  # the first visitor gets the validator the others get
    _store(key, body, etag, _headers(response))


def _teed(http, response, chunks, key, headers):
    kept, size, limit = [], 0, _max_bytes()
    try:
        for chunk in chunks:
            if kept is not None:
                size += len(chunk)
                if size > limit:
                    # Too large to keep: those waiting build their own now, not once
                    # this visitor has received it all (a slow download of 30 MB).
                    kept = None
                    _built(key)
                else:
                    kept.append(chunk)
            yield chunk
        # Complete (a client who went away never gets here), and built for anybody.
        if kept is not None and not _built_for_visitor(http):
            body = b"".join(kept)
            etag = response.get("ETag")
            if etag and "Content-Encoding" in response:
                etag = etag.removeprefix("W/")  # weakened by GZipMiddleware, for its copy only
            _store(key, body, etag or _digest(body), headers)  # frees the waiters
            return
    except BaseException:
        if kept is not None:
            _built(key)  # the client went away, or the build failed midway
        raise
    if kept is not None:
        _built(key)  # built for one visitor: nothing kept
    # A marker freed already (too large) may be another builder's now: left alone.


def _digest(body):
    return quote_etag(hashlib.sha1(body).hexdigest()[:24])


def _shared():
    """Whether copies go to Redis, shared by every server (not known down)."""
    shared = getattr(cache, "is_shared", None)
    return shared is not None and shared()


def _copies():
    """Where copies are kept: Redis; while it is unreachable, this process's own
    small store; with no Redis configured, the site's cache (the process's)."""
    if getattr(cache, "is_shared", None) is None or _shared():
        return cache
    return _local


def _max_bytes():
    """The largest answer worth keeping: `MAX_BYTES` in Redis, `LOCAL_MAX_BYTES`
    in the process's own memory."""
    return MAX_BYTES if _shared() else LOCAL_MAX_BYTES


def _store(key, body, etag, headers):
    if len(body) > _max_bytes():
        _built(key)
        return
    compressed = None
    if len(body) >= GZIP_MIN_BYTES:
        compressed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(compressed) >= len(body):
            compressed = None
    head = {"etag": etag, "gzip": compressed is not None, "headers": headers}
    values = {f"{key}:head": head, f"{key}:plain": body}
    if compressed is not None:
        values[f"{key}:gzip"] = compressed
    _copies().set_many(values, TTL)
    _built(key)
