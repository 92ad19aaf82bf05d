"""What editors decide: articles hidden, shown or featured, comments hidden or shown.

Each action is a few statements whatever the selection: the stories of the
articles are refreshed once (a hidden lead hands its story to another
article), and every cached page is made stale.
"""

from django.db import transaction

from .page_cache import bump_content_version
from .reader import refresh_comment_counts
from .related import refresh_stories


@transaction.atomic
def set_articles_hidden(articles, hidden):
    """Hide or show `articles` (a queryset); returns how many."""
    story_ids = set(articles.exclude(story=None).values_list("story_id", flat=True))
    count = articles.update(is_hidden=hidden)
    refresh_stories(story_ids)
    bump_content_version()
    return count


def set_articles_featured(articles, featured):
    """Pin `articles` on the homepage, or unpin them; returns how many."""
    count = articles.update(is_featured=featured)
    bump_content_version()
    return count


@transaction.atomic
def set_comments_public(comments, public):
    """Show or hide `comments` (a queryset); returns how many."""
    article_ids = set(comments.values_list("article_id", flat=True))
    count = comments.update(is_public=public)
    refresh_comment_counts(article_ids)
    return count


def article_edited(article):
    """An editor saved an article's own fields: pages showing it are stale."""
    bump_content_version()


def source_edited(source):
    """An editor saved a source (its display policy among others): its articles' pages are stale."""
    bump_content_version()


def comment_edited(comment):
    refresh_comment_counts([comment.article_id])

