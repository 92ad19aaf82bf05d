"""The article page's related coverage, read at view time: same story, then more on this topic.

"Same story" is the stored event-level links (what bench/related.py measures)
and the other members of the article's story. "More on this topic" is found
here, in one query: recent originals that share the article's names (its
indexed '^' terms), then its tags, then its category; other sources first.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Article, ArticleTerm, RelatedLink

SAME_STORY_CARDS = 8
TOPIC_CARDS = 6
TOPIC_WINDOW = timedelta(days=7)
# Each way of being on topic offers at most this many candidates: the
# ranking reads a few dozen rows, whatever the archive's size.
CANDIDATES_PER_KIND = 40


def same_story_articles(article):
    """Linked articles and the story's other members, other sources first: one query."""
    linked = RelatedLink.objects.filter(from_article=article)
    # A UNION of the two id lists, each read by its own index: as an OR of
    # the two, PostgreSQL scanned the whole article table (190 ms at 20,000).
    ids = linked.order_by().values("to_article_id")
    if article.story_id:
        ids = ids.union(Article.objects.filter(story_id=article.story_id).order_by().values("pk"))
    score = linked.filter(to_article=OuterRef("pk")).values("score")[:1]
    rows = (
        Article.objects.for_list()
        .originals()
        .filter(pk__in=ids)
        .exclude(pk__in=[article.pk, article.copy_of_id or article.pk])
        .annotate(
            link_score=Coalesce(Subquery(score, output_field=FloatField()), Value(0.0)),
            other_source=other_source(article),
        )
        .order_by("-other_source", "-link_score", "-published_at", "-id")
    )
    return list(rows[:SAME_STORY_CARDS])


def other_source(article):
    return Case(
        When(source_id=article.source_id, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def topic_articles(article, tag_ids, listed_ids, now=None):
    """Up to TOPIC_CARDS recent originals on the article's topic, none of `listed_ids`: one query.

    Ranked by kind (a shared name, a shared tag, the category alone), then
    other sources first, then by strength and recency. `tag_ids` are the
    article's own, already read with it.
    """
    now = now or timezone.now()
    # Recent around the article and recent now: an old article still gets
    # the category's latest when nothing of its time is left.
    since = min(article.published_at, now) - TOPIC_WINDOW
    own = article.copy_of_id or article.pk  # a copy is indexed through its original
    names = ArticleTerm.objects.filter(article_id=own, term__startswith="^").values("term")
    by_name = (
        ArticleTerm.objects.filter(term__in=names, published_at__gte=since)
        .exclude(article_id=own)
        .order_by("-published_at")
        .values("article_id")[:CANDIDATES_PER_KIND]
    )
    name_weight = (
        ArticleTerm.objects.filter(article_id=OuterRef("pk"), term__in=names)
        .order_by()
        .values("article_id")
        .annotate(total=Sum("weight"))
        .values("total")[:1]
    )
    through = Article.tags.through
    by_tag = (
        through.objects.filter(tag_id__in=tag_ids)
        .order_by("-article_id")
        .values("article_id")[:CANDIDATES_PER_KIND]
    )
    shared_tags = (
        through.objects.filter(article_id=OuterRef("pk"), tag_id__in=tag_ids)
        .order_by()
        .values("article_id")
        .annotate(total=Count("tag_id"))
        .values("total")[:1]
    )
    category_id = article.source.category_id
    by_category = (
        Article.objects.visible()
        .filter(source__category_id=category_id, published_at__gte=since)
        .order_by("-published_at")
        .values("pk")[:CANDIDATES_PER_KIND]
    )
    kinds = [by_name, by_tag, *([by_category] if category_id else [])]
    if connection.features.supports_slicing_ordering_in_compound:
        # A UNION of the id lists, each read by its own index: as an OR,
        # PostgreSQL read every article of the window (0.3 to 0.5 s at
        # bench/pages.py's 100,000 articles).
        candidates = Q(pk__in=kinds[0].union(*kinds[1:]))
    else:  # SQLite allows no LIMIT inside a UNION
        candidates = Q()
        for ids in kinds:
            candidates |= Q(pk__in=ids)
    rows = (
        Article.objects.for_list()
        .originals()
        .filter(candidates, published_at__gte=since)
        .exclude(pk__in={article.pk, own, *listed_ids})
        .exclude(pk__in=RelatedLink.objects.filter(from_article=article).values("to_article"))
        .exclude(url_hash=article.url_hash)
        .annotate(
            name_weight=Coalesce(Subquery(name_weight, output_field=FloatField()), Value(0.0)),
            shared_tags=Coalesce(Subquery(shared_tags, output_field=IntegerField()), Value(0)),
            other_source=other_source(article),
        )
        .annotate(
            kind=Case(
                When(name_weight__gt=0, then=Value(3)),
                When(shared_tags__gt=0, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by(
            "-kind", "-other_source", "-name_weight", "-shared_tags", "-published_at", "-id"
        )
    )
    if article.story_id:
        rows = rows.exclude(story_id=article.story_id)
    return list(rows[:TOPIC_CARDS])


def related_coverage(article, tag_ids):
    """(same story, more on this topic) for the article page: two queries."""
    same_story = same_story_articles(article)
    more = topic_articles(article, tag_ids, [related.pk for related in same_story])
    return same_story, more
