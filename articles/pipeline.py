"""An article through extraction and related links; a synchronous pass of the whole pipeline."""

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import close_old_connections, connection, connections

from .extract import extract_article
from .ingest import ingest_source
from .models import Article
from .page_cache import bump_content_version, bump_content_version_for_new_article
from .related import relate_article

logger = logging.getLogger(__name__)
# The process's relating thread (relating_beside), made on first use. A
# forked child has the object but not the thread.
_relater = {}
os.register_at_fork(after_in_child=_relater.clear)


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

    Each article is related in a thread beside the extraction of the next one
    (relating_beside): relating waits on the database for about a third of its
    time, which the next extraction uses. Articles are still related one at a
    time, in order. `seconds` bounds the batch below the task timeout: pages
    that each take the whole fetch timeout must not get the worker killed.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    states = {}
    with commits_without_flush(), relating_beside() as relate:
        for n, article_id in enumerate(article_ids):
            # The first article always starts: every batch makes progress.
            if n and deadline is not None and time.monotonic() > deadline:
                return states, list(article_ids[n:])
            states[article_id] = extract_then_relate(article_id, relate)
    return states, []


def extract_then_relate(article_id, relate, force=False):
    """Extract the article and hand it to `relate` when it is ready; returns its state.

    An article extracted earlier but never related (its worker died between
    the two) is not claimed again, only related.
    """
    article = extract_article(article_id, force=force)
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


def stop_relating_thread():
    """Close the relating thread's connection and end it (a worker simply exits)."""
    relater = _relater.pop("thread", None)
    if relater is not None:
        relater.submit(connections.close_all).result()  # runs in the thread: its connection
        relater.shutdown()


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
