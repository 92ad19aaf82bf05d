"""One article related: its vector, its candidates, copy or original, story, links."""

from django.db.models import Exists, OuterRef

from ..models import Article, ArticleTerm
from ..text import article_features, text_fingerprint
from .copies import exact_original, near_original
from .index import (
    count_and_read,
    document_frequencies,
    find_candidates,
    index_article,
    uncount,
    unindex_copy,
)
from .links import TOP_K, rank_candidates, store_related_links
from .stories import assign_story
from .vectors import article_words, weigh_features


def relate_article(article_id):
    """Store the article's related links and story; returns [(article id, score)]."""
    article = (
        Article.objects.filter(pk=article_id)
        .visible()
        .without_heavy_columns(keep=["body_text"])  # relating reads the title and text
        .annotate(indexed=Exists(ArticleTerm.objects.filter(article=OuterRef("pk"))))
        .first()
    )
    if article is None:
        return []
    candidates = analyse_article(article)
    assign_story(article, candidates)
    ranked = rank_candidates(article, candidates)[:TOP_K]
    links = [(candidate.pk, candidate.score) for candidate in ranked]
    store_related_links(article, links)
    return links


def analyse_article(article):
    """Terms, frequencies, candidates and copy check; `article` is relate_article's, with `indexed`."""
    features = article_features(article.title, article.body_text)
    words = article_words(features)
    # Extraction stores it with the text it hashes; rows made otherwise have none.
    article.fingerprint = article.fingerprint or text_fingerprint(article.body_text)
    # A copy of the same URL or text is known before counting: it is never
    # counted in the frequencies, nor counted and then taken back.
    original = exact_original(article)
    # Counted in the frequencies once, so a re-run counts nothing twice.
    counted = not article.indexed and original is None
    frequencies, documents = count_and_read(words) if counted else document_frequencies(words)
    vector = weigh_features(features, frequencies, documents)
    article.terms = vector
    candidates = find_candidates(article, vector)
    if original is None:
        original = near_original(article, candidates)
    if original is not None:
        candidates = [candidate for candidate in candidates if candidate.pk != original]
    article.copy_of_id = original
    Article.objects.filter(pk=article.pk).update(
        terms=vector, fingerprint=article.fingerprint, copy_of=original
    )
    if original is None:
        if counted:
            index_article(article, vector)
    else:
        if counted:
            uncount(words)
        unindex_copy(article)
    return candidates
