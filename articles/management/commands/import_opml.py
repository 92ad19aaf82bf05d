from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.fetch import FetchError, fetch
from articles.opml import OPMLError, import_outlines, parse_opml


class Command(BaseCommand):
    help = "Create sources from an OPML file or URL; existing feed URLs are skipped."

    def add_arguments(self, parser):
        parser.add_argument("location", help="A path or an http(s) URL.")
        parser.add_argument("--update", action="store_true", help="Refresh names and categories.")

    def handle(self, *args, **options):
        location = options["location"]
        try:
            if location.startswith(("http://", "https://")):
                content = fetch(location, accept="text/x-opml, application/xml, */*").content
            else:
                content = Path(location).read_bytes()
            outlines = parse_opml(content)
        except (OSError, FetchError, OPMLError) as exc:
            raise CommandError(f"Cannot read {location}: {exc}") from exc
        created, skipped = import_outlines(outlines, update=options["update"])
        self.stdout.write(
            self.style.SUCCESS(f"{created} source(s) created, {skipped} already present.")
        )
