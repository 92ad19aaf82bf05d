"""Relating beside extraction: each article related in the process's relating thread."""

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import close_old_connections, connection

from ..page_cache import bump_content_version_for_new_article
from ..related import relate_article

logger = logging.getLogger(__name__)
# The process's relating thread, made on first use. A forked child has the
# dict but not the thread.
_relater = {}
os.register_at_fork(after_in_child=_relater.clear)


def relate_now(article_id):
    relate_article(article_id)
    bump_content_version_for_new_article()


@contextmanager
def relating_beside():
    """Yields relate(article_id), which relates in the process's relating thread on PostgreSQL.

    Relating waits on the database for part of its time, which the next
    article's extraction uses. The thread keeps its own connection from batch
    to batch, checked at each batch's start as django-q2 checks the task's
    own. The block's end waits for every article to be related and then
    raises the first error (each is logged; the others are related all the
    same). Inline instead on SQLite, which has one writer at a time, and
    inside a transaction, whose rows another connection cannot see.
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


def relating_threads():
    """Hands the thread over (for stop_pipeline_threads) and forgets it."""
    thread = _relater.pop("thread", None)
    return [thread] if thread is not None else []
