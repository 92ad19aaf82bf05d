"""The network part of extraction: a claimed article's page, fetched ahead in threads."""

import itertools
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import close_old_connections, connection

from ..fetch import HTML_ACCEPT, FetchError, HostBusy, fetch
from ..outages import OUTAGE_WAIT, OutageProblem, TransientProblem, is_outage
from .reuse import conditional_headers

logger = logging.getLogger(__name__)
# The process's fetching threads, made on first use. A forked child has the
# list but not the threads.
_fetchers = []
os.register_at_fork(after_in_child=_fetchers.clear)
# When this process's fetches first met the current outage (None: none now).
_outage = {"since": None}
OUTAGE_LOOK_EVERY = 1.0


def fetch_page(article):
    """(response, problem) for a claimed article's page.

    Needs no database but the fetch slots' cache, so a batch runs it in its
    fetching threads. The problem is an OutageProblem when the page was not
    asked (the cache is down, the host's slots stayed taken), a
    TransientProblem when its failure may pass.

    A fetch that meets an outage of the cache asks again every second while
    the process's outage is younger than OUTAGE_WAIT: the batch then goes on
    as soon as the cache is back, instead of leaving all its articles to the
    sweeper. After that, articles are postponed at once.
    """
    waited = False
    while True:
        response, problem = fetch_page_once(article)
        if not isinstance(problem, OutageProblem) or not problem.outage:
            _outage["since"] = None
            return response, problem
        since = _outage["since"] = _outage["since"] or time.monotonic()
        if time.monotonic() - since > OUTAGE_WAIT:
            return response, problem
        if not waited:
            logger.warning("Fetching %s waits for an outage to pass: %s", article.url, problem)
            waited = True
        time.sleep(OUTAGE_LOOK_EVERY)


def fetch_page_once(article):
    if article.source.use_feed_content:
        return None, "The source is set to use the feed's own content."
    try:
        etag, last_modified = conditional_headers(article)
        response = fetch(
            article.url, etag=etag, last_modified=last_modified,
            accept=HTML_ACCEPT, require_html=True, respect_robots=True,
        )
    except HostBusy as exc:
        return None, OutageProblem(exc.reason)
    except FetchError as exc:
        problem = f"Page fetch failed: {exc.reason}"
        return None, TransientProblem(problem) if exc.transient else problem
    except Exception as exc:  # A fetcher bug must not lose the article.
        if is_outage(exc):
            problem = OutageProblem(f"Not fetched: {exc!r}"[:300])
            problem.outage = True
            return None, problem
        logger.exception("Fetching %s failed", article.url)
        return None, f"Page fetch failed: {exc.__class__.__name__}"
    return response, ""


@contextmanager
def fetching_ahead():
    """Yields (fetch, at_once): fetch(article) starts fetch_page and returns its
    future; at most `at_once` pages may be claimed and not yet finished.

    FETCH_PER_BATCH threads, each with its own HTTP session (connections to a
    site are reused from batch to batch) and, where the fetch slots live in
    the database, its own connection, checked at each batch's start. Taken in
    turn, so the k-th page's thread is the one the batch finished with last:
    no fetch waits behind another. Inline, one page at a time, with
    FETCH_PER_BATCH 1 and inside a transaction (on SQLite another
    connection's fetch slot would wait for it to end).
    """
    if settings.FETCH_PER_BATCH < 2 or connection.in_atomic_block:
        yield fetched_inline, 1
        return
    while len(_fetchers) < settings.FETCH_PER_BATCH:
        _fetchers.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch"))
    threads = _fetchers[: settings.FETCH_PER_BATCH]
    for thread in threads:
        thread.submit(close_old_connections)
    turns = itertools.cycle(threads)
    yield (lambda article: next(turns).submit(fetch_page, article)), len(threads)


def fetched_inline(article):
    future = Future()
    future.set_result(fetch_page(article))
    return future


def fetching_threads():
    """Hands the threads over (for stop_pipeline_threads) and forgets them."""
    threads = list(_fetchers)
    _fetchers.clear()
    return threads
