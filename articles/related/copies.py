"""Syndicated copies: the same URL or wire text in another feed, shown once."""

from ..models import Article
from ..text import shingles

COPY_MIN_SCORE = 0.9
COPY_MIN_OVERLAP = 0.8


def exact_original(article):
    """The earlier article this one copies by URL or by text (its fingerprint), if any."""

    def same(**lookup):
        # Only the indexed equality in SQL: with the other conditions there,
        # SQLite's planner picks the state index and reads every ready article.
        return (
            Article.objects.filter(**lookup)
            .order_by()
            .values_list("published_at", "pk", "copy_of_id", "state", "is_hidden")
        )

    matches = same(url_hash=article.url_hash)
    if article.fingerprint:
        matches = matches.union(same(fingerprint=article.fingerprint))
    own = (article.published_at, article.pk)
    match = min(
        (
            row
            for row in matches
            if row[:2] < own and row[3] == Article.State.READY and not row[4]
        ),
        default=None,
    )
    return (match[2] or match[1]) if match else None


def near_original(article, candidates, read_texts=None):
    """The earlier candidate whose text is this one's, near enough (edited wire copy).

    `read_texts(ids)` gives {id: body_text}: texts_of, or a batch's own reader.
    """
    close = sorted(
        (candidate.published_at, candidate.pk)
        for candidate in candidates
        if candidate.similarity >= COPY_MIN_SCORE
        and (candidate.published_at, candidate.pk) < (article.published_at, article.pk)
    )
    if not close:
        return None
    own = shingles(article.body_text)
    texts = (read_texts or texts_of)([pk for _, pk in close])
    for _, pk in close:
        other = shingles(texts[pk])
        if len(own & other) / (len(own | other) or 1) >= COPY_MIN_OVERLAP:
            return pk
    return None


def texts_of(ids):
    return dict(Article.objects.filter(pk__in=ids).values_list("pk", "body_text"))
