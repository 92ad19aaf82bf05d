"""Outgoing RSS and Atom (django.contrib.syndication); never ingestion."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.templatetags.static import static
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, Stylesheet
from django.utils.xmlutils import SimplerXMLGenerator

from .models import Article, Category, Source

FEED_SIZE = 50


# Served as application/xml: with the RSS and Atom types a browser shows the
# raw text or downloads the file; with this one it applies the stylesheet and
# shows a page that says how to subscribe. Feed readers go by the content.
class BrowsableRss(Rss201rev2Feed):
    content_type = "application/xml; charset=utf-8"


class BrowsableAtom(Atom1Feed):
    content_type = "application/xml; charset=utf-8"

    def write(self, outfile, encoding):
        # Atom1Feed.write with the stylesheet instruction Django writes for RSS only.
        handler = SimplerXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        for stylesheet in self.feed["stylesheets"] or []:
            handler.processingInstruction("xml-stylesheet", stylesheet)
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")


class LatestArticlesFeed(Feed):
    feed_type = BrowsableRss
    description_template = None

    def stylesheets(self, obj=None):
        return [Stylesheet(static("feeds/feed.xsl"), mimetype="text/xsl")]

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
    feed_type = BrowsableAtom
    subtitle = LatestArticlesFeed.description


class CategoryAtom(CategoryFeed):
    feed_type = BrowsableAtom
    subtitle = CategoryFeed.description


class SourceAtom(SourceFeed):
    feed_type = BrowsableAtom
    subtitle = SourceFeed.description
