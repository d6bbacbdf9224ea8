"""The server error handler: a database that does not answer is a 503, not a 500.

Django calls `server_error` for any exception a view or a middleware let
through, still inside the `except` block, so the exception is at hand. When the
database cannot be reached, the answer is a plain French page (rendered without
a request: the context processors would query the database again), or a JSON
message under /api/, with `Retry-After`; never a stack trace.
"""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import server_error as django_server_error

RETRY_AFTER = 30  # seconds

DATABASE_DOWN = (OperationalError, InterfaceError)


def database_unreachable(error):
    """Whether `error` says the database could not be reached (or the connection dropped)."""
    if isinstance(error, DATABASE_DOWN):
        return True
    # psycopg's "connection failed" may reach us wrapped in a plain DatabaseError.
    return isinstance(error, DatabaseError) and isinstance(error.__cause__, DATABASE_DOWN)


def server_error(request, *args, **kwargs):
    error = sys.exc_info()[1]
    if error is None or not database_unreachable(error):
        return django_server_error(request, *args, **kwargs)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "Service momentanément indisponible : réessayez dans quelques instants."},
            status=503,
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response
