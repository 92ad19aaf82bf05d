import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")

application = get_wsgi_application()

# What start-up built lives as long as the process: kept out of the
# collector's passes, a full one no longer walks it (a search with a full
# collection in it took 67-72 ms, against 17 at most after; bench/NOTES-pages.md).
gc.freeze()
