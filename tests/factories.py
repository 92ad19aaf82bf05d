import itertools
from datetime import timedelta

from django.utils import timezone

from articles.models import Article, Category, RelatedLink, Source, Story
from articles.related import refresh_stories

counter = itertools.count(1)


def make_category(**overrides):
    n = next(counter)
    fields = {"name": f"Category {n}", "slug": f"category-{n}"}
    fields.update(overrides)
    return Category.objects.create(**fields)


def make_source(**overrides):
    n = next(counter)
    fields = {
        "name": f"Source {n}",
        "slug": f"source-{n}",
        "feed_url": f"https://source-{n}.example/feed.xml",
        "site_url": f"https://source-{n}.example/",
    }
    fields.update(overrides)
    return Source.objects.create(**fields)


def make_article(**overrides):
    n = next(counter)
    source = overrides.pop("source", None) or make_source()
    url = overrides.pop("url", f"https://news-{n}.example/story/{n}")
    fields = {
        "source": source,
        "guid": url,
        "url": url,
        "canonical_url": url,
        "title": f"Headline number {n}",
        "published_at": timezone.now() - timedelta(hours=n % 48),
        "summary": f"Summary of story {n}.",
        "body_html": f"<p>Body of story {n}.</p>",
        "body_text": f"Body of story {n}.",
        "state": Article.State.READY,
        "word_count": 4,
    }
    fields.update(overrides)
    return Article.objects.create(**fields)


def link(from_article, to_article, score=0.5):
    return RelatedLink.objects.create(from_article=from_article, to_article=to_article, score=score)


def make_story(*articles):
    """A story of `articles`, its counts and lead refreshed as the pipeline does."""

    first = min(articles, key=lambda article: article.published_at)
    story = Story.objects.create(first_published_at=first.published_at, updated_at=first.published_at)
    Article.objects.filter(pk__in=[article.pk for article in articles]).update(story=story)
    refresh_stories([story.pk])
    return story


PAGE = """<html lang="en"><head><title>{title}</title></head><body>
<nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p>By Jane Reporter</p>{paragraphs}</article><footer>Copyright</footer></body></html>"""


def serve_small_feed(server, count=2):
    items = []
    for n in range(count):
        paragraphs = "".join(
            f"<p>Paragraph {p} of report {n} about the harbour bridge repairs, which the city "
            f"council approved after a long debate about cost, traffic and safety.</p>"
            for p in range(6)
        )
        url = server.add(f"/story-{n}.html", PAGE.format(title=f"Bridge report {n}", paragraphs=paragraphs))
        items.append(f"<item><title>Bridge report {n}</title><link>{url}</link></item>")
    rss = f"<rss version='2.0'><channel><title>Small</title>{''.join(items)}</channel></rss>"
    return server.add("/feed.xml", rss, content_type="application/rss+xml")


# The browser tests' flood report: an opening, then facts key points can add.
FLOOD_TEXT = (
    "Storm Corran pushed the river Lune over its banks.\n"
    "The council opened two rest centres at Marrowby school and the leisure centre for 1,200 residents.\n"
    "Water reached 1.8 metres at the old bridge, the highest level since 1968, the Environment Agency said.\n"
    "Mayor Ilse Varga thanked volunteers who filled 4,000 sandbags through the night.\n"
    "Trains between Marrowby and Northgate will not run before Friday, the rail operator said."
)
