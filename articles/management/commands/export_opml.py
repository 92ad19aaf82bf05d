from django.core.management.base import BaseCommand

from articles.models import Source
from articles.opml import export_opml


class Command(BaseCommand):
    help = "Print every source as OPML."

    def handle(self, *args, **options):
        sources = Source.objects.select_related("category").order_by("name")
        self.stdout.write(export_opml(sources).decode("utf-8"))
