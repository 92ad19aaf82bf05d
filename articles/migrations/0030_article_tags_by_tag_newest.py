from django.db import migrations

from ._only_on import only_on

# The article page's "more on this topic" reads each of the article's tags'
# newest articles (articles/related/topics.py) as a prepared statement, with
# one plan for every tag: this index answers it in order, however many
# articles a tag has. Built without blocking writes to the tags.
FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS article_tags_tag_newest"
    " ON articles_article_tags (tag_id, article_id DESC)",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS article_tags_tag_newest"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("articles", "0029_searchentry_month_lexemes"),
    ]

    operations = [only_on("postgresql", FORWARD, BACKWARD)]
