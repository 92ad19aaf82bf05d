"""Outages of what the site runs on (cache, locks, broker, database), told apart
from a page's own failure, and the backoffs of what waits for them.

An outage is nobody's fault in particular and passes: what it interrupted
is tried again, never recorded as the page's or the feed's failure.
"""

import functools
import logging
import random
import time
from datetime import timedelta

from django.db import InterfaceError, OperationalError, connections
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
OUTAGE_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionInterrupted,
    OperationalError,
    InterfaceError,
)
# An article whose extraction an outage interrupted is tried again after
# about this long at first (jittered, so a recovered worker pool is not hit
# at once), then after a quarter of the time it has waited so far, up to
# OUTAGE_RETRY_LONGEST: a long outage is not asked about every minute.
OUTAGE_RETRY_SECONDS = 30
OUTAGE_RETRY_LONGEST = timedelta(minutes=15)
# A page that failed in a way that may pass (refused, reset, timed out, 5xx,
# 429) is fetched again this many times, PAGE_RETRY_FIRST after the failure,
# then three times as long each time; meanwhile the feed's text is shown.
MAX_PAGE_RETRIES = 3
PAGE_RETRY_FIRST = timedelta(minutes=10)


# A task that meets an outage tries again every OUTAGE_PAUSE seconds for up
# to OUTAGE_WAIT (about a database restart), then is queued again; both stay
# well inside the task timeout.
OUTAGE_WAIT = 45
OUTAGE_PAUSE = 3


class OutageProblem(str):
    """Why an article's page was not fetched, when it is not the page's doing
    (an outage, or every fetch slot of its host taken): it waits and is
    tried again, keeping its attempts."""

    outage = False  # True: an outage, not a busy host


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


def outage_retry_at(now, waiting_since=None):
    """When to try again what an outage interrupted; `waiting_since`: when it
    first became due (an article's discovery)."""
    waited = (now - waiting_since) if waiting_since else timedelta(0)
    delay = min(max(timedelta(seconds=OUTAGE_RETRY_SECONDS), waited / 4), OUTAGE_RETRY_LONGEST)
    return now + delay * random.uniform(0.5, 1.5)


def page_retry_at(now, retries_so_far):
    """When a transient page failure is next retried; None after the last retry."""
    if retries_so_far >= MAX_PAGE_RETRIES:
        return None
    return now + PAGE_RETRY_FIRST * 3**retries_so_far


def rides_out_outages(task):
    """For django-q2 task functions: one that meets an outage is run again
    once it has passed, or queued again, not dropped.

    A task that fails while the database is down fails in the worker with no
    failed-task row kept (the row too needs the database), and a scheduled
    run is lost with it. Tasks are idempotent (claims, upserts), so running
    one again from the start is safe.
    """

    @functools.wraps(task)
    def run(*args, **kwargs):
        give_up = time.monotonic() + OUTAGE_WAIT
        while True:
            try:
                return task(*args, **kwargs)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                # Broken connections are not reused; the next query connects afresh.
                for connection in connections.all(initialized_only=True):
                    connection.close_if_unusable_or_obsolete()
                if time.monotonic() + OUTAGE_PAUSE > give_up:
                    return queue_again(task, args, kwargs, exc)
                logger.warning("%s waits for an outage to pass: %r", task.__name__, exc)
                time.sleep(OUTAGE_PAUSE)

    return run


def queue_again(task, args, kwargs, exc):
    """The task, queued again (the broker may be up while the database is not);
    raises the outage when the broker is down too."""
    from django_q.tasks import async_task

    try:
        async_task(f"{task.__module__}.{task.__name__}", *args, **kwargs)
    except Exception as broker_exc:
        raise exc from broker_exc
    logger.warning("%s queued again after an outage: %r", task.__name__, exc)
    return f"queued again after an outage: {exc.__class__.__name__}"
