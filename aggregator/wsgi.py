import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")

application = get_wsgi_application()

# What start-up built lives as long as the process: kept out of the
# collector's passes, a full one no longer walks it (up to 60 ms a pause on a
# search worker, bench/NOTES-pages.md).
gc.freeze()
