"""What the site answers while what it runs on is down: a 503 that says to
come back, and /readyz, which names the dependency that is down."""

import json
import sys

from django.db import connection
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

from .outages import is_outage

# Seconds a client is asked to wait: about as long as a restart of the database.
RETRY_AFTER = 30


def server_error(request):
    """handler500: an outage (the database gone, say) is a 503 with Retry-After
    and a page saying so; anything else is the usual 500."""
    if not is_outage(sys.exc_info()[1]):
        return defaults.server_error(request)
    return unavailable()


def unavailable():
    # Rendered without a request: context processors read the database.
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def readyz(request):
    """200 when the database and the shared cache (and broker, on Redis) answer;
    503 naming those that do not. /healthz stays a liveness check."""
    checks = {"database": database_answers, "cache": shared_cache_answers}
    down = [name for name, check in checks.items() if not check()]
    body = {"ready": not down, "down": down}
    response = HttpResponse(json.dumps(body), content_type="application/json",
                            status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    if down:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def database_answers():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception as exc:
        if not is_outage(exc):
            raise
        connection.close()  # the next request connects afresh
        return False


def shared_cache_answers():
    from django.core.cache import caches

    try:
        caches["locks"].get("readyz")
        return True
    except Exception as exc:
        if not is_outage(exc):
            raise
        return False
