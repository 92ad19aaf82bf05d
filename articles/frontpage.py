"""The homepage's first page: top stories and a section per category, in a fixed
number of queries whatever the archive's size."""

from datetime import timedelta

from django.utils import timezone

from .models import Article, Category, Story

TOP_STORIES = 4
# A story's weight halves every this many hours since its last article.
HALF_LIFE_HOURS = 12
TOP_WINDOW = timedelta(hours=48)
CANDIDATES = 30
SECTION_SIZE = 4
SECTION_POOL = 300
OTHER_HEADLINES = 3


def top_stories(now=None):
    """The biggest recent stories: most sources, then freshest. Each is its lead
    article with `other_coverage`, other sources' articles on it (2 queries)."""
    now = now or timezone.now()
    candidates = list(
        Story.objects.filter(
            source_count__gte=2, updated_at__gte=now - TOP_WINDOW, lead_article__isnull=False
        )
        .order_by("-source_count", "-updated_at")
        .values("pk", "source_count", "updated_at", "lead_article_id")[:CANDIDATES]
    )

    def weight(story):
        hours = (now - story["updated_at"]).total_seconds() / 3600
        return story["source_count"] * 0.5 ** (hours / HALF_LIFE_HOURS)

    chosen = sorted(candidates, key=weight, reverse=True)[:TOP_STORIES]
    if not chosen:
        return []
    members = (
        Article.objects.for_list().originals().select_related("story")
        .filter(story__in=[story["pk"] for story in chosen])
        .order_by("-published_at", "-id")
    )
    by_story = {}
    for article in members:
        by_story.setdefault(article.story_id, []).append(article)
    leads = []
    for story in chosen:
        articles = by_story.get(story["pk"], [])
        lead = next((a for a in articles if a.pk == story["lead_article_id"]), None)
        if lead is None:
            continue  # hidden since; its story shows elsewhere once refreshed
        seen, others = {lead.source_id}, []
        for article in articles:
            if article.source_id not in seen:
                seen.add(article.source_id)
                others.append(article)
        lead.other_coverage = others[:OTHER_HEADLINES]
        leads.append(lead)
    return leads


def category_sections(exclude_ids=()):
    """[(category, newest articles)] for each category among the newest
    SECTION_POOL articles (2 queries).

    The pool is one range of the (published_at, id) index, so the cost stays
    flat as the archive grows; a window per category, or a query each, scanned
    the archive for a category with nothing recent (bench/NOTES-pages.md).
    """
    recent = (
        Article.objects.for_list().one_per_story().select_related("story")
        .order_by("-published_at", "-id")[:SECTION_POOL]
    )
    by_category = {}
    for article in recent:
        category_id = article.source.category_id
        if category_id is None or article.pk in exclude_ids:
            continue
        articles = by_category.setdefault(category_id, [])
        if len(articles) < SECTION_SIZE:
            articles.append(article)
    categories = Category.objects.filter(pk__in=by_category).order_by("name")
    return [(category, by_category[category.pk]) for category in categories]


def attach_story_sources(articles):
    """Each article in a story gets `story_sources`: the names of the story's
    sources, its own first (1 query for the whole list)."""
    story_ids = {a.story_id for a in articles if a.story_id and a.story.source_count > 1}
    if not story_ids:
        return
    names = {}
    rows = (
        Article.objects.visible().filter(story__in=story_ids)
        .values_list("story_id", "source__name").distinct().order_by("story_id", "source__name")
    )
    for story_id, name in rows:
        names.setdefault(story_id, []).append(name)
    for article in articles:
        if article.story_id in names:
            own = article.source.name
            article.story_sources = [own] + [n for n in names[article.story_id] if n != own]
