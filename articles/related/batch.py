"""A task's batch related together: relate_article's decisions, article after
article in date order, with one read of the frequencies, one candidate search
and one write of links and stories for the whole batch.

Each statement cost far more in Python and in PostgreSQL's parse, plan and
commit than in its own work; per article, relating made about fifteen
(bench/NOTES-ingest.md). Later articles of the batch see the earlier ones as
relate_article would have left them: indexed, in their stories, linked.
"""

import json
from collections import Counter

from django.db import connection, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from ..models import Article, ArticleTerm, RelatedLink, Story
from ..text import article_features, text_fingerprint
from .copies import near_original, texts_of
from .deadlocks import retrying_deadlocks
from .index import (
    ALL_DOCUMENTS,
    MAX_CANDIDATES,
    WINDOW,
    Candidate,
    add_to_frequencies,
    document_frequencies,
    index_rows,
    query_terms,
    rough_candidates_of_batch,
    rows_sql,
    uncount,
)
from .links import RELATIVE_MIN_SCORE, TOP_K, rank_candidates
from .stories import STORY_MAX_MEMBERS, plan_stories, refresh_stories
from .vectors import article_words, cosine, weigh_features


def relate_articles(article_ids, release=()):
    """Related links and story of each article; returns {article id: [(id, score)]}.

    Articles not ready or hidden are left out, as relate_article leaves them.
    The extraction claims of those in `release` (the pipeline's batch holds
    them until its articles are related) end in the same write.
    """
    articles = list(
        Article.objects.filter(pk__in=article_ids)
        .visible()
        .without_heavy_columns(keep=["body_text"])  # relating reads the title and text
        .annotate(indexed=Exists(ArticleTerm.objects.filter(article=OuterRef("pk"))))
        .order_by("published_at", "pk")
    )
    if not articles:
        return {}
    batch = RelatingBatch(articles)
    batch.relate()
    write_batch(batch, set(release))
    return batch.links


class RelatingBatch:
    """What relating decides for a batch, before anything is written."""

    def __init__(self, articles):
        self.articles = articles
        self.by_pk = {article.pk: article for article in articles}
        self.story_of = {}  # article id -> story id as the batch left it (< 0: a new story)
        self.members = {}  # story id -> {article id: (published_at, terms)}
        self.touched = set()  # stories to refresh
        self.links = {}  # article id -> [(id, score)]
        self.near_copies = []  # counted articles found to be copies: uncounted again
        self.new_stories = {}  # -article id -> the article that started it
        self.texts = {article.pk: article.body_text for article in articles}

    def relate(self):
        for article in self.articles:
            article.features = article_features(article.title, article.body_text)
            article.words = article_words(article.features)
            article.fingerprint = article.fingerprint or text_fingerprint(article.body_text)
        exact = self.exact_matches()
        for article in self.articles:
            article.exact = exact[article.pk]
            # Counted in the frequencies once, so a re-run counts nothing twice.
            article.counted = not article.indexed and article.exact is None
        self.read_frequencies()
        # The search's terms come from each vector as it would be if no article
        # of the batch turned out a near copy; a near copy (rare) changes the
        # later vectors by one document, their exact cosines are computed again.
        running, documents = Counter(), 0
        for article in self.articles:
            article.terms = self.vector(article, running, documents)
            if article.counted:
                running.update(article.words)
                documents += 1
        rough = rough_candidates_of_batch([(article, article.terms) for article in self.articles])
        self.rows = self.candidate_rows({pk for found in rough.values() for _, pk in found})
        self.load_members({row[2] for row in self.rows.values()} | {
            article.story_id for article in self.articles
        })
        running, documents, revised = Counter(), 0, False
        earlier = []  # the batch's originals so far: candidates of the next ones
        for article in self.articles:
            if revised:
                article.terms = self.vector(article, running, documents)
            candidates = self.candidates(article, rough[article.pk], earlier)
            original = self.root(article.exact)
            if original is None:
                original = near_original(article, candidates, self.read_texts)
                if original is not None and article.counted:
                    self.near_copies.append(article)
                    revised = True
            if original is not None:
                candidates = [candidate for candidate in candidates if candidate.pk != original]
            elif article.counted:
                running.update(article.words)
                documents += 1
            article.copy_of_id = original
            if original is None:
                article.index_rows = index_rows(article.pk, article.published_at, article.terms)
                article.postings = {row.term: row.weight for row in article.index_rows}
                earlier.append(article)
            self.assign_story(article, candidates)
            ranked = rank_candidates(article, candidates)[:TOP_K]
            self.links[article.pk] = [(candidate.pk, candidate.score) for candidate in ranked]

    def exact_matches(self):
        """{article id: (published_at, id, copy_of_id, story_id) of its earliest exact copy}.

        exact_original's rule for every article in one statement; rows of the
        batch itself answer with what the batch decides for them.
        """

        def same(**lookup):
            return (
                Article.objects.filter(**lookup)
                .order_by()
                .values_list(
                    "published_at", "pk", "copy_of_id", "story_id", "state", "is_hidden",
                    "url_hash", "fingerprint",
                )
            )

        matches = same(url_hash__in={article.url_hash for article in self.articles})
        fingerprints = {article.fingerprint for article in self.articles if article.fingerprint}
        if fingerprints:
            matches = matches.union(same(fingerprint__in=fingerprints))
        rows = [row for row in matches if row[4] == Article.State.READY and not row[5]]
        self.exact_rows = {row[1]: row for row in rows}
        found = {}
        for article in self.articles:
            own = (article.published_at, article.pk)
            found[article.pk] = min(
                (
                    row[1]
                    for row in rows
                    if (row[6] == article.url_hash or (article.fingerprint and row[7] == article.fingerprint))
                    and row[:2] < own
                ),
                key=lambda pk: (self.exact_rows[pk][0], pk),
                default=None,
            )
        return found

    def root(self, pk):
        """The original an exact match stands for: itself, or what it copies."""
        if pk is None:
            return None
        if pk in self.by_pk:
            return self.by_pk[pk].copy_of_id or pk
        return self.exact_rows[pk][2] or pk

    def read_frequencies(self):
        """Count the batch's originals in the frequencies and read them as they were before."""
        totals = Counter()
        for article in self.articles:
            if article.counted:
                totals.update(article.words)
                totals[ALL_DOCUMENTS] += 1
        counts = add_to_frequencies(totals) if totals else {}
        self.before = {term: counts[term] - totals[term] for term in counts}
        unread = {
            word for article in self.articles if not article.counted for word in article.words
        } - self.before.keys()
        if unread or ALL_DOCUMENTS not in self.before:
            frequencies, documents = document_frequencies(unread)
            self.before.update(frequencies)
            self.before[ALL_DOCUMENTS] = self.before.get(ALL_DOCUMENTS, documents)

    def read_texts(self, ids):
        """texts_of, each text read once for the batch."""
        self.texts.update(texts_of([pk for pk in ids if pk not in self.texts]))
        return self.texts

    def vector(self, article, running, documents):
        """The article's TF-IDF vector, with the batch's earlier originals counted."""
        frequencies = {
            word: self.before.get(word, 0) + running[word] for word in article.words
        }
        return weigh_features(article.features, frequencies, self.before[ALL_DOCUMENTS] + documents)

    def candidate_rows(self, ids):
        rows = (
            Article.objects.visible()
            .filter(pk__in=ids, copy_of__isnull=True)
            .order_by()
            .values_list("pk", "source_id", "published_at", "story_id", "terms", "url_hash")
        )
        return {row[0]: row[1:] for row in rows}

    def candidates(self, article, rough, earlier):
        """find_candidates' answer for the article, the batch's earlier originals included.

        They count as the index would have found them: by the overlap of the
        article's query terms with their postings, in the best MAX_CANDIDATES.
        """
        query = query_terms(article.terms)
        rough = [(overlap, pk) for overlap, pk in rough if pk not in self.by_pk]
        for other in earlier:
            close_in_time = abs(other.published_at - article.published_at) <= WINDOW
            overlap = sum(weight * other.postings.get(term, 0.0) for term, weight in query)
            if close_in_time and overlap > 0 and other.pk != article.pk:
                rough.append((overlap, other.pk))
        rough.sort(key=lambda item: (-item[0], item[1]))
        found = {}
        for _, pk in rough[:MAX_CANDIDATES]:
            if pk in self.by_pk:
                other = self.by_pk[pk]
                if other.url_hash != article.url_hash:
                    found[pk] = Candidate(
                        pk, other.source_id, other.published_at, self.story_of[pk],
                        cosine(article.terms, other.terms), other.terms,
                    )
                continue
            if pk not in self.rows:
                continue
            source_id, published_at, story_id, terms, url_hash = self.rows[pk]
            if url_hash == article.url_hash:
                continue
            terms = terms or {}
            story_id = self.story_of.get(pk, story_id)
            found[pk] = Candidate(
                pk, source_id, published_at, story_id, cosine(article.terms, terms), terms
            )
        return sorted(found.values(), key=lambda candidate: (-candidate.similarity, candidate.pk))

    def load_members(self, story_ids):
        story_ids = {pk for pk in story_ids if pk and pk not in self.members}
        if not story_ids:
            return
        rows = (
            Article.objects.visible()
            .filter(story_id__in=story_ids, copy_of__isnull=True)
            .order_by()
            .values_list("story_id", "pk", "published_at", "terms")
        )
        for story_id in story_ids:
            self.members[story_id] = {}
        for story_id, pk, published_at, terms in rows:
            if pk not in self.by_pk:  # the batch's own join as the batch decides
                self.members[story_id][pk] = (published_at, terms or {})

    def read_members(self, story_ids):
        """story_members' answer for the stories as the batch has left them."""
        self.load_members(story_ids)
        newest = {}
        for story_id in story_ids:
            members = sorted(
                self.members[story_id].items(), key=lambda item: (item[1][0], item[0]), reverse=True
            )
            newest[story_id] = {pk: terms for pk, (_, terms) in members[:STORY_MAX_MEMBERS]}
        return newest

    def assign_story(self, article, candidates):
        """assign_story's decision, kept in memory; a new story has the id -article.pk."""
        old_story_id = self.story_of.get(article.pk, article.story_id)
        moves = {}
        if article.copy_of_id:
            story_id = self.story_of_original(article.copy_of_id, candidates)
        else:
            story_id, moves = plan_stories(article, candidates, self.read_members)
        if story_id is None:
            story_id = -article.pk
            self.members[story_id] = {}
            self.new_stories[story_id] = article
        moves[article.pk] = story_id
        for candidate in candidates:
            if candidate.pk in moves:
                self.touched.add(candidate.story_id)
                self.members.get(candidate.story_id, {}).pop(candidate.pk, None)
                self.members[moves[candidate.pk]][candidate.pk] = (
                    candidate.published_at, candidate.terms,
                )
                candidate.story_id = moves[candidate.pk]
        if old_story_id:
            self.members.get(old_story_id, {}).pop(article.pk, None)
        if not article.copy_of_id:
            self.members[story_id][article.pk] = (article.published_at, article.terms)
        self.touched.update({old_story_id, *moves.values()})
        self.story_of.update(moves)
        article.story_id = story_id

    def story_of_original(self, pk, candidates):
        if pk in self.story_of:
            return self.story_of[pk]
        for candidate in candidates:
            if candidate.pk == pk:
                return candidate.story_id
        if pk in self.exact_rows:
            return self.exact_rows[pk][3]
        return Article.objects.filter(pk=pk).values_list("story_id", flat=True).first()


@retrying_deadlocks
@transaction.atomic
def write_batch(batch, release=frozenset()):
    """Stories, the articles' terms and stories, the index and the links, in one transaction."""
    articles = batch.articles
    # Started by an article of the batch; one left empty by later moves goes
    # again in refresh_stories.
    stories = Story.objects.bulk_create(
        [
            Story(
                lead_article_id=article.pk,
                first_published_at=article.published_at,
                updated_at=article.published_at,
            )
            for article in batch.new_stories.values()
        ]
    )
    created = dict(zip(batch.new_stories, (story.pk for story in stories)))
    stories_of = {pk: created.get(story_id, story_id) for pk, story_id in batch.story_of.items()}
    for article in articles:
        article.story_id = stories_of[article.pk]
    write_articles(articles, release)
    moved = {pk: story_id for pk, story_id in stories_of.items() if pk not in batch.by_pk}
    # Copies follow their original.
    followers = Q(copy_of__in=stories_of) | Q(pk__in=moved)
    Article.objects.filter(followers).exclude(pk__in=batch.by_pk).update(
        story_id=Case(
            *[
                When(Q(pk=pk) | Q(copy_of=pk), then=Value(story_id))
                for pk, story_id in stories_of.items()
            ],
            output_field=IntegerField(),
        )
    )
    refresh_stories({created.get(pk, pk) for pk in batch.touched if pk})

    copies = [article for article in articles if article.copy_of_id]
    for article in batch.near_copies:
        uncount(article.words)
    insert_postings(
        [
            row
            for article in articles
            if article.counted and not article.copy_of_id
            for row in article.index_rows  # relate()'s, for the terms as written
        ]
    )
    if copies:
        ArticleTerm.objects.filter(article__in=copies).delete()
        RelatedLink.objects.filter(to_article__in=copies).delete()
    store_batch_links(batch)


POSTINGS_CHUNK = 1000


def insert_postings(rows):
    """ArticleTerm rows (unsaved instances) in one INSERT over a table of values:
    bulk_create prepared each field of each of a batch's 300 rows in Python."""
    table = ArticleTerm._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL: the ORM's own format
    with connection.cursor() as cursor:
        for start in range(0, len(rows), POSTINGS_CHUNK):
            chunk = rows[start : start + POSTINGS_CHUNK]
            values, params = rows_sql(
                [(row.article_id, row.term, row.weight, adapt(row.published_at)) for row in chunk],
                [("article_id", "bigint"), ("term", "text"), ("weight", "float8"),
                 ("published_at", "timestamptz")],
            )
            cursor.execute(
                f"INSERT INTO {table} (article_id, term, weight, published_at) {values}", params
            )


def write_articles(articles, release):
    """Each article's terms, fingerprint, copy and story in one UPDATE; the claims of
    those in `release` end.

    bulk_update's CASE per column and row cost more Python than the rest of
    the write: the rows go as one table of values instead.
    """
    table = Article._meta.db_table
    rows = [
        (article.pk, json.dumps(article.terms), article.fingerprint, article.copy_of_id,
         article.story_id, article.pk in release)
        for article in articles
    ]
    values, params = rows_sql(
        rows,
        [("id", "bigint"), ("terms", "jsonb"), ("fingerprint", "text"),
         ("copy_of_id", "bigint"), ("story_id", "bigint"), ("release", "boolean")],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET terms = q.terms, fingerprint = q.fingerprint,"
            " copy_of_id = q.copy_of_id, story_id = q.story_id,"
            f" claimed_until = CASE WHEN q.release THEN NULL ELSE {table}.claimed_until END"
            f" FROM ({values}) q WHERE {table}.id = q.id",
            params,
        )


def store_batch_links(batch):
    """store_related_links for each article in turn, on the links as they are, written once."""
    copies = {article.pk for article in batch.articles if article.copy_of_id}
    affected = set(batch.links) | {pk for links in batch.links.values() for pk, _ in links}
    stored = {}  # (from, to) -> (link id, score)
    rows = RelatedLink.objects.filter(from_article_id__in=affected)
    for link_id, from_id, to_id, score in rows.values_list(
        "pk", "from_article_id", "to_article_id", "score"
    ):
        stored[from_id, to_id] = (link_id, score)
    links = {pk: {} for pk in affected}
    for (from_id, to_id), (_, score) in stored.items():
        if to_id not in copies:
            links[from_id][to_id] = score
    for article in batch.articles:
        ranked = batch.links[article.pk]
        links[article.pk] = dict(ranked)
        if article.copy_of_id or not ranked:
            continue
        for pk, score in ranked:
            # As store_related_links: the older article keeps its best TOP_K
            # and nothing far below its best.
            existing = [(other, pk_score) for other, pk_score in links[pk].items() if other != article.pk]
            merged = sorted(
                [*((s, other) for other, s in existing), (score, article.pk)],
                key=lambda link: (-link[0], link[1] != article.pk),
            )
            floor = RELATIVE_MIN_SCORE * merged[0][0]
            kept = [link for link in merged if link[0] >= floor][:TOP_K]
            if (score, article.pk) in kept:
                links[pk] = {other: s for s, other in kept}
            else:
                links[pk].pop(article.pk, None)
    stale = [link_id for (from_id, to_id), (link_id, _) in stored.items()
             if to_id not in links.get(from_id, {})]
    RelatedLink.objects.filter(pk__in=stale).delete()
    RelatedLink.objects.bulk_create(
        [
            RelatedLink(from_article_id=from_id, to_article_id=to_id, score=score)
            for from_id, targets in links.items()
            for to_id, score in targets.items()
            if stored.get((from_id, to_id), (None, None))[1] != score
        ],
        update_conflicts=True,
        unique_fields=["from_article", "to_article"],
        update_fields=["score"],
    )
