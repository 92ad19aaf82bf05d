from django.core.management.base import BaseCommand, CommandError

from articles.discovery import discover_feeds
from articles.fetch import FetchError
from articles.models import Source
from articles.sanitize import safe_url
from articles.sources import category_named, create_source


class Command(BaseCommand):
    help = (
        "Add a source by its feed URL, or a site's address (its feed is found); "
        "it is due for fetching at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--name", default="")
        parser.add_argument("--category", default="")
        parser.add_argument("--language", default="")

    def handle(self, *args, **options):
        url = safe_url(options["url"])
        if not url:
            raise CommandError("The feed URL must start with http:// or https://.")
        name, site_url, language = options["name"], "", options["language"]
        try:
            feeds = discover_feeds(url)
        except FetchError as exc:
            feeds = None
            self.stderr.write(f"Could not read {url} now ({exc.reason}); adding it as given.")
        if feeds is not None:
            if not feeds:
                raise CommandError(f"{url} is a web page, not a feed, and no feed was found on it.")
            if len(feeds) > 1:
                listed = "\n".join(f"  {feed.url}  {feed.title}" for feed in feeds)
                raise CommandError(f"{url} offers several feeds; add one of them:\n{listed}")
            if feeds[0].url != url:
                self.stdout.write(f"Found the feed {feeds[0].url} on {url}.")
            url, feed = feeds[0].url, feeds[0].feed
            # Named after the feed's own title when no name is given.
            name = name or feed.title
            site_url, language = feed.link, language or feed.language
        if Source.objects.filter(feed_url=url).exists():
            raise CommandError(f"A source with the feed URL {url} exists already.")
        source = create_source(
            Source(
                name=name or url.split("/")[2],
                feed_url=url,
                site_url=site_url,
                category=category_named(options["category"]),
                language=language,
            )
        )
        if source is None:  # added meanwhile
            raise CommandError(f"A source with the feed URL {url} exists already.")
        self.stdout.write(self.style.SUCCESS(f"Added source {source.pk}: {source.name} ({url})"))
