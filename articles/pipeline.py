"""One synchronous pass of the whole pipeline, for `manage.py ingest` and tests."""

from dataclasses import dataclass

from .extract import extract_article
from .ingest import ingest_source
from .models import Article
from .page_cache import bump_content_version
from .related import relate_article
from .search import update_search_vector


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
        article = extract_article(article_id)
        if article is not None and article.state == Article.State.READY:
            update_search_vector(article_id)
            relate_article(article_id)
            summary.extracted += 1
        elif article is not None:
            summary.failed += 1
        if bar:
            bar.update()
    if bar:
        bar.close()
    bump_content_version()
    return summary
