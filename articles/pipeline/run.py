"""An article's way through the pipeline: claim, fetch, extract and save, relate."""

import time
from collections import deque
from concurrent.futures import wait
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, connections

from ..ingest import ingest_source
from ..models import Article
from ..outages import OutageProblem
from ..page_cache import bump_content_version
from .apply import finish_extraction
from .claim import Leases, claim_article, release_claims, reset_for_extraction
from .fetching import fetching_ahead, fetching_threads
from .relating import relate_batch, relate_now


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

    An article makes about a dozen commits (claim, fetch slot, save,
    relating), and every pipeline write can be derived again: a crash of the
    database (never of a worker) loses at most its last fraction of a second
    of commits, a lost claim or extraction leaves the row to
    retry_stalled_task, and the broker redelivers an unacknowledged task. A
    later synchronous commit (the broker's acknowledgement) flushes the
    earlier ones with it.
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


def extract_article(article_id, force=False):
    """Fetch and extract one article, falling back to the feed's own text.

    Returns the article in its final state, or None when it was not claimed.
    """
    if force:
        reset_for_extraction(article_id)
    article = claim_article(article_id)
    if article is None:
        return None
    with fetching_ahead() as (fetch, _at_once):
        page = fetch(article)
        return finish_extraction(article, fetched_renewing(page, Leases(), [article_id]))


def fetched_renewing(page, leases, article_ids):
    """The page's fetch_page result, the leases on `article_ids` renewed while it is awaited."""
    while not wait([page], timeout=leases.renew_every).done:
        leases.renew_if_due(article_ids)
    return page.result()


def extract_and_relate_article(article_id, force=False):
    """Extract one article, then find its related links and story; returns its state.

    The extraction commits first, so a failure to relate never loses it. A
    redelivered task (its worker was killed between the two) finds the
    article ready but unrelated, and relates it.
    """
    with commits_without_flush():
        state = relate_extracted(article_id, extract_article(article_id, force=force), relate_now)
        release_claims([article_id])
        return state


def extract_and_relate_articles(article_ids, seconds=None):
    """Extract and relate a batch; returns ({id: state}, ids left for a new task):
    those unstarted after `seconds`, and those whose host's fetch slots stayed
    taken (a killed worker's slots run out a little later: a new task finds
    them free instead of the sweeper's next minute).

    Up to FETCH_PER_BATCH articles are claimed and their pages fetched at once,
    in fetching threads (fetching_ahead), while one is extracted: a page from
    a real site takes longer to arrive than to extract. Articles are
    extracted one at a time, in order, then related together (relate_batch).
    `seconds` bounds the batch below the task timeout: no article is claimed
    after it (those already claimed are finished: their fetches started before
    it), so pages that each take the whole fetch timeout do not get the worker
    killed.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    states = {}
    waiting = deque(article_ids)
    claimed = deque()  # (article_id, claimed article or None, future of its page)
    leases = Leases(waiting)
    extracted = []
    mine = []  # claimed by this batch
    busy = []  # postponed: their host's fetch slots stayed taken
    sources = {}  # read once for the batch
    with commits_without_flush(), fetching_ahead() as fetching:
        fetch, at_once = fetching
        while waiting or claimed:
            while waiting and len(claimed) < at_once:
                # The first article always starts: every batch makes progress.
                started = states or claimed
                if started and deadline is not None and time.monotonic() > deadline:
                    break
                article_id = waiting.popleft()
                article = claim_article(article_id, sources=sources)
                claimed.append((article_id, article, article and fetch(article)))
            if not claimed:
                break
            article_id, article, page = claimed.popleft()
            if article is not None:
                # Extracted ones stay held too, until related at the batch's end.
                mine.append(article_id)
                held = [*mine, *(other for other, taken, _ in claimed if taken)]
                fetched = fetched_renewing(page, leases, held)
                article = finish_extraction(article, fetched)
                if isinstance(fetched[1], OutageProblem) and not fetched[1].outage:
                    busy.append(article_id)
                leases.renew_if_due(held)
            states[article_id] = relate_extracted(article_id, article, extracted.append)
        # Most claims end in relating's own write; the rest's here.
        released = relate_batch(extracted, release=mine)
        release_claims([article_id for article_id in mine if article_id not in released])
    return states, list(waiting) + busy


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


def stop_pipeline_threads():
    """Close the fetching threads' connections and end the threads.

    For tests and scripts: a worker simply exits.
    """
    for thread in fetching_threads():
        thread.submit(connections.close_all).result()  # runs in the thread: its connection
        thread.shutdown()


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
