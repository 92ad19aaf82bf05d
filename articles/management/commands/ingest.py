from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from tqdm import tqdm

from articles.models import Source
from articles.pipeline import run_pass


class Command(BaseCommand):
    help = "Run one full pass in the foreground: fetch sources, extract, relate."

    def add_arguments(self, parser):
        parser.add_argument(
            "sources", nargs="*", help="Source ids, slugs or feed URLs (default: every due source)."
        )
        parser.add_argument("--all", action="store_true", help="Fetch every active source.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if options["sources"]:
            match = Q()
            for key in options["sources"]:
                match |= Q(slug=key) | Q(feed_url=key)
                if key.isdigit():
                    match |= Q(pk=int(key))
            sources = list(Source.objects.filter(match))
            if not sources:
                raise CommandError("No source matches " + ", ".join(options["sources"]))
        elif options["all"]:
            sources = list(Source.objects.filter(is_active=True))
        else:
            sources = list(Source.objects.due())
        self.stdout.write(f"Fetching {len(sources)} source(s)…")

        def progress(total):
            return tqdm(
                total=total, desc="Extracting", unit="article",
                disable=options["no_progress"], file=self.stderr._out,
            )

        summary = run_pass(sources, progress=progress)
        self.stdout.write(self.style.SUCCESS(str(summary)))
