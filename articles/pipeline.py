"""An article through extraction and related links; a synchronous pass of the whole pipeline."""

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from .extract import extract_article
from .ingest import ingest_source
from .models import Article
from .page_cache import bump_content_version, bump_content_version_for_new_article
from .related import relate_article


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
        return extract_and_relate(article_id, force)


def extract_and_relate(article_id, force):
    article = extract_article(article_id, force=force)
    if article is None:
        unrelated = Article.objects.filter(
            pk=article_id, state=Article.State.READY, story__isnull=True
        ).exists()
        if not unrelated:
            return "not claimed"
    elif article.state != Article.State.READY:
        return article.state
    relate_article(article_id)
    bump_content_version_for_new_article()
    return Article.State.READY


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
