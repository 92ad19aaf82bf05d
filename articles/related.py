"""Related links (TF-IDF cosine over recent articles) and stories across sources."""

import math
from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from .models import Article, RelatedLink, Story
from .text import STOPWORDS, WORD

TOP_K = 6
MIN_SCORE = 0.08
STORY_MIN_SCORE = 0.3
WINDOW = timedelta(days=7)
MAX_CANDIDATES = 5000
MAX_TERMS = 60
def article_terms(title, text):
    """Term counts for one article: the title weighs as much as a paragraph."""
    words = [w for w in WORD.findall(f"{title} {title} {title} {text[:6000]}".lower())]
    counts = Counter(w for w in words if w not in STOPWORDS)
    return dict(counts.most_common(MAX_TERMS))


def cosine_scores(target, candidates):
    """Cosine of TF-IDF vectors; IDF from the candidate set itself."""
    documents = len(candidates) + 1
    frequency = Counter()
    for terms in candidates.values():
        frequency.update(terms.keys())
    frequency.update(target.keys())

    def weigh(terms):
        return {
            # Smoothed as in scikit-learn, so a term shared by every
            # candidate still counts when there are only a few.
            term: (1 + math.log(count)) * (math.log((documents + 1) / (frequency[term] + 1)) + 1)
            for term, count in terms.items()
        }

    target_vector = weigh(target)
    target_norm = math.sqrt(sum(v * v for v in target_vector.values())) or 1.0
    scores = {}
    for article_id, terms in candidates.items():
        if not terms.keys() & target_vector.keys():
            continue
        vector = weigh(terms)
        dot = sum(weight * target_vector.get(term, 0.0) for term, weight in vector.items())
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        scores[article_id] = dot / (norm * target_norm)
    return scores


def candidate_terms(article):
    rows = (
        Article.objects.visible()
        .filter(
            published_at__gte=article.published_at - WINDOW,
            published_at__lte=article.published_at + WINDOW,
        )
        .exclude(pk=article.pk)
        .exclude(url_hash=article.url_hash)
        .order_by("-published_at")
        .values_list("pk", "terms")[:MAX_CANDIDATES]
    )
    return {pk: terms for pk, terms in rows if terms}


def find_related_articles(article):
    """[(article_id, score)] best first, at most TOP_K, above MIN_SCORE."""
    if not article.terms:
        article.terms = article_terms(article.title, article.body_text)
        Article.objects.filter(pk=article.pk).update(terms=article.terms)
    scores = cosine_scores(article.terms, candidate_terms(article))
    ranked = sorted(
        ((pk, score) for pk, score in scores.items() if score >= MIN_SCORE),
        key=lambda item: -item[1],
    )
    return ranked[:TOP_K]


@transaction.atomic
def store_related_links(article, ranked):
    RelatedLink.objects.filter(from_article=article).delete()
    RelatedLink.objects.bulk_create(
        [RelatedLink(from_article=article, to_article_id=pk, score=score) for pk, score in ranked]
    )
    # Older articles learn of the newer one too, keeping their best TOP_K.
    for pk, score in ranked:
        RelatedLink.objects.update_or_create(
            from_article_id=pk, to_article=article, defaults={"score": score}
        )
        surplus = RelatedLink.objects.filter(from_article_id=pk).order_by("-score", "-id")[TOP_K:]
        RelatedLink.objects.filter(pk__in=list(surplus.values_list("pk", flat=True))).delete()


@transaction.atomic
def assign_story(article, ranked):
    """Join the story of the closest article from another source, or start one."""
    match = None
    if ranked:
        neighbours = Article.objects.filter(pk__in=[pk for pk, s in ranked if s >= STORY_MIN_SCORE])
        by_pk = {a.pk: a for a in neighbours.exclude(source_id=article.source_id)}
        for pk, _score in ranked:
            if pk in by_pk:
                match = by_pk[pk]
                break
    if match is None:
        if article.story_id:
            return article.story
        story = Story.objects.create(
            lead_article=article,
            first_published_at=article.published_at,
            updated_at=article.published_at,
        )
        Article.objects.filter(pk=article.pk).update(story=story)
        article.story = story
        return story
    story = match.story
    if story is None:
        story = Story.objects.create(
            lead_article=match,
            first_published_at=match.published_at,
            updated_at=match.published_at,
        )
        Article.objects.filter(pk=match.pk).update(story=story)
    old_story_id = article.story_id
    Article.objects.filter(pk=article.pk).update(story=story)
    article.story = story
    refresh_story(story)
    if old_story_id and old_story_id != story.pk:
        old = Story.objects.filter(pk=old_story_id).first()
        if old and not old.articles.exists():
            old.delete()
        elif old:
            refresh_story(old)
    return story


def refresh_story(story):
    members = Article.objects.filter(story=story).visible()
    stats = members.aggregate(
        articles=Count("pk"), sources=Count("source", distinct=True)
    )
    first = members.order_by("published_at").first()
    latest = members.order_by("-published_at").first()
    if first is None:
        return
    # The lead is the longest text: the fullest account of the event.
    lead = members.order_by("-word_count", "published_at").first()
    Story.objects.filter(pk=story.pk).update(
        article_count=stats["articles"],
        source_count=stats["sources"],
        first_published_at=first.published_at,
        updated_at=latest.published_at,
        lead_article=lead,
    )


def relate_article(article_id):
    article = Article.objects.filter(pk=article_id).visible().first()
    if article is None:
        return []
    ranked = find_related_articles(article)
    store_related_links(article, ranked)
    assign_story(article, ranked)
    return ranked
