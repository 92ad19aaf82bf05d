from django.core.management.base import BaseCommand, CommandError

from articles.fetch import FEED_ACCEPT, FetchError, fetch
from articles.ingest import FeedRefused, parse_feed
from articles.models import Source
from articles.sanitize import safe_url
from articles.sources import category_named, create_source


class Command(BaseCommand):
    help = "Add a source by its feed URL; it is due for fetching at once."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--name", default="")
        parser.add_argument("--category", default="")
        parser.add_argument("--language", default="")

    def handle(self, *args, **options):
        url = safe_url(options["url"])
        if not url:
            raise CommandError("The feed URL must start with http:// or https://.")
        if Source.objects.filter(feed_url=url).exists():
            raise CommandError(f"A source with the feed URL {url} exists already.")
        name, site_url, language = options["name"], "", options["language"]
        if not name:
            # Name the source after the feed's own title when it can be read.
            try:
                parsed = parse_feed(fetch(url, accept=FEED_ACCEPT).content, base_url=url)
                name, site_url = parsed.title, parsed.link
                language = language or parsed.language
            except (FetchError, FeedRefused) as exc:
                self.stderr.write(f"Could not read the feed's title ({exc}); naming it by host.")
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
