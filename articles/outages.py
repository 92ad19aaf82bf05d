"""Outages of what the site runs on (cache, locks, broker, database), told apart
from a page's own failure, and the backoffs of what waits for them.

An outage is nobody's fault in particular and passes: what it interrupted
is tried again, never recorded as the page's or the feed's failure.
"""

import random
from datetime import timedelta

from django.db import InterfaceError, OperationalError
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

OUTAGE_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionInterrupted,
    OperationalError,
    InterfaceError,
)
# An article whose extraction an outage interrupted is tried again after
# about this long (jittered, so a recovered worker pool is not hit at once).
OUTAGE_RETRY_SECONDS = 30
# A page that failed in a way that may pass (refused, reset, timed out, 5xx,
# 429) is fetched again this many times, PAGE_RETRY_FIRST after the failure,
# then three times as long each time; meanwhile the feed's text is shown.
MAX_PAGE_RETRIES = 3
PAGE_RETRY_FIRST = timedelta(minutes=10)


class OutageProblem(str):
    """Why an article's page was not fetched, when it is not the page's doing
    (an outage, or every fetch slot of its host taken): it waits and is
    tried again, keeping its attempts."""


class TransientProblem(str):
    """A page's own failure that may pass: the feed's text is shown meanwhile
    and the page is fetched again later, a bounded number of times."""


def is_outage(exc):
    """Whether `exc`, or an exception it was raised from, is an outage."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def outage_retry_at(now):
    return now + timedelta(seconds=OUTAGE_RETRY_SECONDS * random.uniform(0.5, 1.5))


def page_retry_at(now, retries_so_far):
    """When a transient page failure is next retried; None after the last retry."""
    if retries_so_far >= MAX_PAGE_RETRIES:
        return None
    return now + PAGE_RETRY_FIRST * 3**retries_so_far
