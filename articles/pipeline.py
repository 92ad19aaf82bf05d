"""An article through extraction and related links; a synchronous pass of the whole pipeline."""

import itertools
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection, connections

from .extract import claim_article, extract_article, fetch_page, finish_extraction
from .ingest import ingest_source
from .models import Article
from .page_cache import bump_content_version, bump_content_version_for_new_article
from .related import relate_article

logger = logging.getLogger(__name__)
# The process's relating thread (relating_beside) and fetching threads
# (fetching_ahead), made on first use. A forked child has the objects but not
# the threads.
_relater = {}
_fetchers = []
os.register_at_fork(after_in_child=_relater.clear)
os.register_at_fork(after_in_child=_fetchers.clear)


@dataclass
class PassSummary:
    sources: int = 0
    sources_failed: int = 0
    new_articles: int = 0
    extracted: int = 0
    failed: int = 0

    def __str__(self):
        return (
            f"sources fetched={self.sources} (failed {self.sources_failed}), "
            f"new articles={self.new_articles}, extracted={self.extracted}, failed={self.failed}"
        )


@contextmanager
def commits_without_flush():
    """PostgreSQL's synchronous_commit off: a commit does not wait for its WAL flush.

    The flush took 2 to 4 ms per commit, and an article makes about a dozen
    (claim, fetch slot, save, relating). Every pipeline write can be derived
    again, and a crash of the database (never of a worker) loses at most its
    last fraction of a second of commits: a lost claim or extraction leaves
    the row to retry_stalled_task, and the broker redelivers an unacknowledged
    task. A later synchronous commit (the broker's acknowledgement) flushes
    the earlier ones with it.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def extract_and_relate_article(article_id, force=False):
    """Extract one article, then find its related links and story; returns its state.

    Both steps in one task save a broker round trip per article. The extraction
    commits first, so a failure to relate never loses it. A redelivered
    task (its worker was killed between the two) finds the article ready but
    unrelated, and relates it.
    """
    with commits_without_flush():
        return extract_then_relate(article_id, relate_now, force)


def extract_and_relate_articles(article_ids, seconds=None):
    """Extract and relate a batch; returns ({id: state}, ids left unstarted after `seconds`).

    Up to FETCH_PER_BATCH articles are claimed and their pages fetched at once,
    in fetching threads (fetching_ahead), while one is extracted: a page from
    a real site takes longer to arrive than to extract, and one at a time the
    worker mostly waited. Each article is related in a thread beside the
    extraction of the next one (relating_beside): relating waits on the
    database for about a third of its time, which the next extraction uses.
    Articles are still extracted and related one at a time, in order.
    `seconds` bounds the batch below the task timeout: no article is claimed
    after it (those already claimed are finished: their fetches started before
    it), so pages that each take the whole fetch timeout do not get the worker
    killed.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    states = {}
    waiting = deque(article_ids)
    claimed = deque()  # (article_id, claimed article or None, future of its page)
    with commits_without_flush(), relating_beside() as relate, fetching_ahead() as fetching:
        fetch, at_once = fetching
        while waiting or claimed:
            while waiting and len(claimed) < at_once:
                # The first article always starts: every batch makes progress.
                started = states or claimed
                if started and deadline is not None and time.monotonic() > deadline:
                    break
                article_id = waiting.popleft()
                article = claim_article(article_id)
                claimed.append((article_id, article, article and fetch(article)))
            if not claimed:
                break
            article_id, article, page = claimed.popleft()
            if article is not None:
                article = finish_extraction(article, page.result())
            states[article_id] = relate_extracted(article_id, article, relate)
    return states, list(waiting)


def extract_then_relate(article_id, relate, force=False):
    """Extract the article and hand it to `relate` when it is ready; returns its state."""
    return relate_extracted(article_id, extract_article(article_id, force=force), relate)


def relate_extracted(article_id, article, relate):
    """Hand an extracted article to `relate`; returns its state.

    `article` is None when it was not claimed: one extracted earlier but never
    related (its worker died between the two) is related all the same.
    """
    if article is None:
        unrelated = Article.objects.filter(
            pk=article_id, state=Article.State.READY, story__isnull=True
        ).exists()
        if not unrelated:
            return "not claimed"
    elif article.state != Article.State.READY:
        return article.state
    relate(article_id)
    return Article.State.READY


def relate_now(article_id):
    relate_article(article_id)
    bump_content_version_for_new_article()


@contextmanager
def relating_beside():
    """Yields relate(article_id), which relates in the process's relating thread on PostgreSQL.

    The thread keeps its own connection from batch to batch, checked at each
    batch's start as django-q2 checks the task's own. The block's end waits
    for every article to be related and then raises the first error (each is
    logged; the others are related all the same). Inline instead on SQLite,
    which has one writer at a time, and inside a transaction, whose rows
    another connection cannot see.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield relate_now
        return
    relater = relating_thread()
    relater.submit(prepare_relating_connection)
    futures = []
    try:
        yield lambda article_id: futures.append(relater.submit(relate_in_thread, article_id))
    finally:
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error


def relating_thread():
    if "thread" not in _relater:
        _relater["thread"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relate")
    return _relater["thread"]


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


def stop_pipeline_threads():
    """Close the relating and fetching threads' connections and end the threads.

    For tests and scripts: a worker simply exits.
    """
    threads = [_relater.pop("thread", None), *_fetchers]
    _fetchers.clear()
    for thread in threads:
        if thread is not None:
            thread.submit(connections.close_all).result()  # runs in the thread: its connection
            thread.shutdown()


def prepare_relating_connection():
    """In the relating thread: a connection checked as django-q2 checks the
    task's own, whose commits do not wait for the flush (commits_without_flush).
    The thread relates nothing else, so the setting stays for the session."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")


def relate_in_thread(article_id):
    try:
        relate_now(article_id)
    except Exception:
        logger.exception("Relating article %s failed", article_id)
        raise


def run_pass(sources, progress=None):
    """Fetch `sources`, then extract and relate every pending article.

    `progress(total)` returns an object with update() and close(), e.g. tqdm.
    """
    summary = PassSummary()
    for source in sources:
        result = ingest_source(source)
        summary.sources += 1
        summary.sources_failed += result.status == "failed"
        summary.new_articles += len(result.new_article_ids)
    pending = list(Article.objects.pending().order_by("published_at").values_list("pk", flat=True))
    bar = progress(len(pending)) if progress else None
    for article_id in pending:
        state = extract_and_relate_article(article_id)
        summary.extracted += state == Article.State.READY
        summary.failed += state == Article.State.FAILED
        if bar:
            bar.update()
    if bar:
        bar.close()
    bump_content_version()
    return summary
