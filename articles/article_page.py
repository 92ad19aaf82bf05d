"""The article page's own reads: the article with its source and story, its tags,
the copies of its text, its comments.

Written as SQL (articles/rows.py): through the ORM, select_related with
deferred columns and two prefetches took about 3 ms of Python to compile and
build for every page, and PostgreSQL about 1 ms more to plan the join than
to run it. Most articles have no copies and no comments: a flag and a count
on the row tell whether to ask.
"""

from django.http import Http404

from . import rows
from .models import Article, Source, Story, Tag, heavy_columns

# The page shows its own text and key points; of a copied original only
# its link and source.
SHOWN = ("body_html", "key_points")


def page_article(slug):
    """The visible article of `slug`, ready for its page, else Http404.

    Sets on it: source, story, copy_of (with its source), visible_copies,
    tag_list and public_comments.
    """
    article_part = rows.columns(Article, "a", exclude=heavy_columns(keep=SHOWN))
    found = rows.read(
        "SELECT {0}, {1}, {2}, EXISTS (SELECT 1 FROM articles_article c"
        " WHERE c.copy_of_id = a.id AND c.state = %s AND NOT c.is_hidden)"
        " FROM articles_article a JOIN articles_source s ON s.id = a.source_id"
        " LEFT JOIN articles_story st ON st.id = a.story_id"
        " WHERE a.slug = %s AND a.state = %s AND NOT a.is_hidden",
        [Article.State.READY, slug, Article.State.READY],
        article_part, rows.columns(Source, "s"), rows.columns(Story, "st", exclude=["additions"]),
        rows.Value(),
    )
    if not found:
        raise Http404("No article found.")
    article, source, story, has_copies = found[0]
    article.source, article.story = source, story
    if article.copy_of_id:
        article.copy_of = light_articles("a.id = %s", [article.copy_of_id])[0]
    article.visible_copies = (
        light_articles(
            "a.copy_of_id = %s AND a.state = %s AND NOT a.is_hidden ORDER BY a.published_at DESC, a.id DESC",
            [article.pk, Article.State.READY],
        )
        if has_copies
        else []
    )
    article.tag_list = [
        tag for (tag,) in rows.read(
            "SELECT {0} FROM articles_tag t JOIN articles_article_tags g ON g.tag_id = t.id"
            " WHERE g.article_id = %s ORDER BY t.name",
            [article.pk], rows.columns(Tag, "t"),
        )
    ]
    # The count (kept by every path that writes a comment) comes with the row.
    article.public_comments = (
        list(article.comments.filter(is_public=True).select_related("user"))
        if article.comment_count
        else []
    )
    return article


def light_articles(where, params):
    """Articles named by `where` with no more than a link to them needs: slug and source."""
    found = rows.read(
        "SELECT {0}, {1} FROM articles_article a JOIN articles_source s ON s.id = a.source_id"
        f" WHERE {where}",
        params,
        rows.columns(Article, "a", exclude=LIGHT_EXCLUDED),
        rows.columns(Source, "s", exclude=SOURCE_EXCLUDED),
    )
    result = []
    for article, source in found:
        article.source = source
        result.append(article)
    return result


LIGHT_EXCLUDED = [
    field.name for field in Article._meta.concrete_fields
    if field.name not in ("id", "slug", "source", "copy_of")
]
SOURCE_EXCLUDED = [
    field.name for field in Source._meta.concrete_fields if field.name not in ("id", "name", "slug")
]
