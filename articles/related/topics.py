"""The article page's related coverage, read at view time: same story, then more on this topic.

"Same story" is the stored event-level links (what bench/related.py measures)
and the other members of the article's story. "More on this topic" is found
here, in one query: recent originals that share the article's names (its
indexed '^' terms), then its tags, then its category; other sources first.

Both are written as SQL, their cards built from the rows: through the ORM
the two took about 12 ms of CPU to build and read, more than the database
took to answer them (bench/NOTES-pages.md).
"""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from .. import rows
from ..models import Article

SAME_STORY_CARDS = 8
TOPIC_CARDS = 6
TOPIC_WINDOW = timedelta(days=7)
# Each way of being on topic offers at most this many candidates: the
# ranking reads a few dozen rows, whatever the archive's size.
CANDIDATES_PER_KIND = 40


def same_story_articles(article):
    """Linked articles and the story's other members, other sources first: one query."""
    # A UNION of the two id lists, each read by its own index: as an OR of
    # the two, PostgreSQL scanned the whole article table (190 ms at 20,000).
    ids = "SELECT to_article_id FROM articles_relatedlink WHERE from_article_id = %s"
    params = [article.pk]
    if article.story_id:
        ids += " UNION SELECT id FROM articles_article WHERE story_id = %s"
        params.append(article.story_id)
    return rows.cards(
        "SELECT {columns} FROM articles_article a JOIN articles_source s ON s.id = a.source_id"
        f" WHERE a.id IN ({ids}) AND a.state = %s AND NOT a.is_hidden"
        " AND a.copy_of_id IS NULL AND a.id NOT IN (%s, %s)"
        " ORDER BY CASE WHEN a.source_id = %s THEN 0 ELSE 1 END DESC,"
        " coalesce((SELECT l.score FROM articles_relatedlink l WHERE l.from_article_id = %s"
        " AND l.to_article_id = a.id), 0) DESC, a.published_at DESC, a.id DESC LIMIT %s",
        [*params, Article.State.READY, article.pk, article.copy_of_id or article.pk,
         article.source_id, article.pk, SAME_STORY_CARDS],
    )


def article_names(article):
    """The article's names: its indexed '^' terms (a copy's are its original's)."""
    with rows.cursor() as cursor:
        cursor.execute(
            "SELECT term FROM articles_articleterm WHERE article_id = %s AND term LIKE %s",
            [article.copy_of_id or article.pk, "^%"],
        )
        return [term for (term,) in cursor.fetchall()]


def newest_of_each(alias, table, column, values, sql_type, newest, where="", where_params=()):
    """(SQL, params) of a candidate arm: the CANDIDATES_PER_KIND newest article
    ids among `table`'s rows r whose `column` is one of `values`, newest by
    `newest`, that also meet `where` (on r).

    On PostgreSQL each value reads its own (column, newest) range: the
    statement is planned once for all articles (rows.cursor), and as one
    range over all the values the plan walked the time index instead,
    filtering by value: 63,000 rows and 10 ms for an article's names at
    1,000,000 articles, against under 1 ms (bench/NOTES-pages.md).
    """
    if connection.vendor == "postgresql":
        return (
            f"SELECT id FROM (SELECT n.id FROM unnest(%s::{sql_type}[]) AS q (value) CROSS JOIN LATERAL"
            f" (SELECT r.article_id AS id, r.{newest} AS newest FROM {table} r"
            f" WHERE r.{column} = q.value{where} ORDER BY r.{newest} DESC LIMIT %s) AS n"
            f" ORDER BY n.newest DESC LIMIT %s) AS {alias}",
            [list(values), *where_params, CANDIDATES_PER_KIND, CANDIDATES_PER_KIND],
        )
    chosen, chosen_params = rows.any_of(f"r.{column}", values)
    return (
        f"SELECT id FROM (SELECT r.article_id AS id FROM {table} r WHERE {chosen}{where}"
        f" ORDER BY r.{newest} DESC LIMIT %s) AS {alias}",
        [*chosen_params, *where_params, CANDIDATES_PER_KIND],
    )


def topic_articles(article, tag_ids, listed_ids, names, now=None):
    """Up to TOPIC_CARDS recent originals on the article's topic, none of `listed_ids`: one query.

    Ranked by kind (a shared name, a shared tag, the category alone), then
    other sources first, then by strength and recency. `tag_ids` and `names`
    (article_names) are the article's own, already read with it. An article
    without names (most of the archive: names are indexed for the relating
    window only) asks for neither the name arm nor the name weights, which
    took half the statement's time (0.5 of 1.0 ms at 1,000,000 articles).
    """
    now = now or timezone.now()
    # Recent around the article and recent now: an old article still gets
    # the category's latest when nothing of its time is left.
    since = min(article.published_at, now) - TOPIC_WINDOW
    own = article.copy_of_id or article.pk  # a copy is indexed through its original
    tag_ids, names = list(tag_ids), list(names)
    category_id = article.source.category_id
    # Each kind's id list read by its own index, LIMITed in a subquery of its
    # own (SQLite allows no LIMIT in a UNION's arm): as an OR, PostgreSQL read
    # every article of the window (0.3 to 0.5 s at bench/pages.py's 100,000).
    kinds, params = [], []
    if names:
        arm, arm_params = newest_of_each(
            "by_name", "articles_articleterm", "term", names, "text", "published_at",
            " AND r.published_at >= %s AND r.article_id <> %s", [since, own],
        )
        kinds.append(arm)
        params += arm_params
    if tag_ids:
        # The index of migration 0030 holds each tag's range newest first.
        arm, arm_params = newest_of_each(
            "by_tag", "articles_article_tags", "tag_id", tag_ids, "bigint", "article_id"
        )
        kinds.append(arm)
        params += arm_params
    if category_id:
        kinds.append(
            "SELECT id FROM (SELECT c.id FROM articles_article c"
            " JOIN articles_source cs ON cs.id = c.source_id"
            " WHERE cs.category_id = %s AND c.state = %s AND NOT c.is_hidden"
            " AND c.published_at >= %s ORDER BY c.published_at DESC LIMIT %s) AS by_category"
        )
        params += [category_id, Article.State.READY, since, CANDIDATES_PER_KIND]
    if not kinds:
        return []
    name_weight = "0"
    if names:
        named, named_params = rows.any_of("t.term", names)
        name_weight = (
            "coalesce((SELECT sum(t.weight) FROM articles_articleterm t"
            f" WHERE t.article_id = a.id AND {named}), 0)"
        )
        params += named_params
    shared_tags = "0"
    if tag_ids:
        tagged, tagged_params = rows.any_of("g.tag_id", tag_ids)
        shared_tags = (
            f"(SELECT count(*) FROM articles_article_tags g WHERE g.article_id = a.id AND {tagged})"
        )
        params += tagged_params
    excluded, excluded_params = rows.none_of("a.id", sorted({article.pk, own, *listed_ids}))
    params += [Article.State.READY, since, *excluded_params, article.pk, article.url_hash]
    story = ""
    if article.story_id:
        story = " AND (a.story_id IS NULL OR a.story_id <> %s)"
        params.append(article.story_id)
    # The ranking runs on the candidates' narrow rows and keeps TOPIC_CARDS;
    # only those are read again for their cards (joining all 40 candidates'
    # card columns before the LIMIT read each one's row twice: 768 buffers
    # a page at 1,000,000 articles; bench/NOTES-pages.md).
    order = (
        "CASE WHEN r.name_weight > 0 THEN 3 WHEN r.shared_tags > 0 THEN 2 ELSE 1 END DESC,"
        " CASE WHEN r.source_id = %s THEN 0 ELSE 1 END DESC, r.name_weight DESC,"
        " r.shared_tags DESC, r.published_at DESC, r.id DESC"
    )
    params += [article.source_id, TOPIC_CARDS, article.source_id]
    return rows.cards(
        "WITH candidates AS (" + " UNION ".join(kinds) + "),"
        " ranked AS (SELECT * FROM (SELECT a.id, a.source_id, a.published_at,"
        f" {name_weight} AS name_weight, {shared_tags} AS shared_tags"
        " FROM articles_article a WHERE a.id IN (SELECT id FROM candidates)"
        " AND a.state = %s AND NOT a.is_hidden AND a.copy_of_id IS NULL"
        f" AND a.published_at >= %s AND {excluded}"
        " AND a.id NOT IN (SELECT to_article_id FROM articles_relatedlink"
        " WHERE from_article_id = %s) AND a.url_hash <> %s" + story + ") AS r"
        f" ORDER BY {order} LIMIT %s)"
        " SELECT {columns} FROM ranked r JOIN articles_article a ON a.id = r.id"
        f" JOIN articles_source s ON s.id = a.source_id ORDER BY {order}",
        params,
    )


def related_coverage(article, tag_ids):
    """(same story, more on this topic) for the article page: three queries."""
    same_story = same_story_articles(article)
    more = topic_articles(
        article, tag_ids, [related.pk for related in same_story], article_names(article)
    )
    return same_story, more
