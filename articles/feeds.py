"""Outgoing RSS and Atom (django.contrib.syndication); never ingestion."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Article, Category, Source

FEED_SIZE = 50


class LatestArticlesFeed(Feed):
    description_template = None

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: latest news"

    def link(self, obj=None):
        return reverse("articles:list")

    def description(self, obj=None):
        return "The latest articles from every source."

    def get_queryset(self, obj):
        return Article.objects.for_list()

    def items(self, obj=None):
        return self.get_queryset(obj)[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.excerpt

    def item_author_name(self, item):
        return item.author or item.source.name

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.extracted_at or item.published_at

    def item_categories(self, item):
        return [item.source.name]


class ObjectFeed(LatestArticlesFeed):
    """The latest articles of one category or source, found by its slug."""

    model = None

    def get_object(self, request, slug):
        return get_object_or_404(self.model, slug=slug)

    def title(self, obj):
        return f"{settings.SITE_NAME}: {obj.name}"

    def link(self, obj):
        return obj.get_absolute_url()


class CategoryFeed(ObjectFeed):
    model = Category

    def description(self, obj):
        return f"The latest {obj.name} articles."

    def get_queryset(self, obj):
        return Article.objects.for_list().for_category(obj)


class SourceFeed(ObjectFeed):
    model = Source

    def description(self, obj):
        return f"The latest articles from {obj.name}."

    def get_queryset(self, obj):
        return Article.objects.for_list().for_source(obj)


class LatestArticlesAtom(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description


class CategoryAtom(CategoryFeed):
    feed_type = Atom1Feed
    subtitle = CategoryFeed.description


class SourceAtom(SourceFeed):
    feed_type = Atom1Feed
    subtitle = SourceFeed.description
