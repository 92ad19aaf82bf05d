import gzip
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from articles.extract import extract_page
from articles.fetch import HTML_ACCEPT, FetchError, fetch


class Command(BaseCommand):
    help = "Print the extraction of pages given as .html/.html.gz files or URLs."

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="FILE_OR_URL")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args, **options):
        failures = 0
        for source in options["sources"]:
            try:
                html, url = read_page(source)
            except (OSError, FetchError) as exc:
                failures += 1
                reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
                self.stderr.write(f"{source}: {reason}")
                continue
            extraction = extract_page(html, url)
            if options["json"]:
                record = {"source": source, **extraction.as_json()}
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            else:
                self.stdout.write(describe(source, extraction))
        if failures:
            # Every page was tried; the exit status still tells scripts.
            sys.exit(1)


def read_page(source):
    """(html bytes, url) of a local file or, through the guarded client, a URL."""
    if source.startswith(("http://", "https://")):
        response = fetch(source, accept=HTML_ACCEPT, require_html=True)
        return response.content, response.url
    data = Path(source).read_bytes()
    return (gzip.decompress(data) if source.endswith(".gz") else data), ""


def describe(source, extraction):
    published = extraction.published_at.isoformat() if extraction.published_at else "-"
    return "\n".join(
        [
            f"== {source}",
            f"Title:      {extraction.title or '-'}",
            f"Author:     {extraction.author or '-'}",
            f"Published:  {published}",
            f"Lead image: {extraction.lead_image_url or '-'}",
            f"Language:   {extraction.language or '-'}",
            "",
            extraction.text,
            "",
        ]
    )
