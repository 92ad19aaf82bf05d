from django.db import migrations

from ._only_on import only_on

# 0025 moved every vector out of line (toast_tuple_target = 128) when a
# search visited each match's row for its date. Since 0026 a search visits
# only the rows of the months it reads, about one heap page a match either
# way, and then ranks the newest 500 (articles/search.py): out of line,
# each of those is a second read through the TOAST table's index. In line
# (up to a page, 8160 bytes; longer vectors are still compressed or moved
# out), the ranking statement took 5.4-5.6 ms against 7.6 at 1,000,000
# articles, the same ids for 200 searches (bench/NOTES-pages.md). The table's
# size is about the same (3.19 against 3.16 GB).
#
# Rows written from now on are kept in line. Older rows stay as they are
# until rewritten: `VACUUM FULL articles_searchentry` does it at once, under
# a lock that holds searches and new articles for its duration (109 s at
# 1,000,000 articles); searches read the newest months first, so most gain
# without it as new articles arrive.
FORWARD = "ALTER TABLE articles_searchentry SET (toast_tuple_target = 8160);"
BACKWARD = "ALTER TABLE articles_searchentry SET (toast_tuple_target = 128);"


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0027_searchentry_gin_without_pending_list"),
    ]

    operations = [only_on("postgresql", FORWARD, BACKWARD)]
