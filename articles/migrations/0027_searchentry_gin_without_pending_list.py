from django.db import migrations

from ._only_on import only_on

# GIN's fast update keeps new entries in a pending list (up to 4 MB) that
# every scan of the index reads in full, and a search scans the index once
# for each month it reads (articles/search.py). With 600 new articles
# pending, the ranking statement took 8.9-9.1 ms against 6.3-6.5 with none
# (bench/NOTES-pages.md). Without it, an article's entries go into the index
# as it is written: about 0.75 ms more of PostgreSQL's time per article.
FORWARD = (
    "ALTER INDEX searchentry_month_vector SET (fastupdate = off);"
    "SELECT gin_clean_pending_list('searchentry_month_vector'::regclass);"
)
BACKWARD = "ALTER INDEX searchentry_month_vector SET (fastupdate = on);"


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0026_searchentry_month"),
    ]

    operations = [only_on("postgresql", FORWARD, BACKWARD)]
