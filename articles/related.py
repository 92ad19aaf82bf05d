"""Related links and stories: an inverted index of each article's strongest terms, exact cosine on the best hundred."""

import contextlib
import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

from .models import Article, ArticleTerm, DocumentFrequency, RelatedLink, Story
from .text import article_features, has_digit, shingles, text_fingerprint

TOP_K = 6
MIN_SCORE = 0.12
# A link much weaker than the article's best one is most often the same
# kind of event somewhere else.
RELATIVE_MIN_SCORE = 0.7
# Neighbours this close bring their story into consideration.
STORY_MIN_SCORE = 0.15
# Cosine to the centroid of a story's members: one close neighbour is not
# enough to join, so two events of the same kind stay apart.
STORY_MIN_LINKAGE = 0.24
STORY_MAX_MEMBERS = 30
# After each article, its closest neighbours may move to a story whose
# centroid now fits them better: early choices, made on little evidence,
# get revised as an event's coverage grows.
STORY_REVISIT = 10
# An article alone in its story found no story close enough when it came;
# revisited later, it joins at a lower linkage: no story of several is split,
# and the story it joins is judged on more members by then. Where the archive
# makes an event's own names common (bench/related.py --filler), same-event
# cosines drop by about an eighth and the event's outliers would stay alone.
STORY_SINGLE_LINKAGE = 0.2
WINDOW = timedelta(days=7)
VECTOR_TERMS = 120
INDEX_TERMS = 30
QUERY_TERMS = 40
# The index overlap ranks well: 100 instead of 300 gave the same links and
# stories on bench/related.py (one hard negative more in 5,000 with 100,000
# filler articles) and reads a third of the vectors.
MAX_CANDIDATES = 100
# A term's newest postings in the window that count towards the overlap: a
# word in thousands of articles a week adds little to it and would make each
# article's candidate search grow with the archive.
POSTINGS_PER_TERM = 1000
# Names and figures count more than common words; word pairs a little.
NAME_BOOST = 1.6
PAIR_BOOST = 1.0
FIGURES_WEIGHT = 0.3
FIGURE_TERMS = 30
SAME_SOURCE_FACTOR = 0.85
# The story, judged on all its members, is more evidence of one event than
# a single cosine: a neighbour in another story ranks lower.
OTHER_STORY_FACTOR = 0.8
STALE_FACTOR = 0.15
COPY_MIN_SCORE = 0.9
COPY_MIN_OVERLAP = 0.8
ALL_DOCUMENTS = ""  # the DocumentFrequency row that counts indexed articles
FREQUENCY_CHUNK = 2000
DEADLOCK = "40P01"
DEADLOCK_ATTEMPTS = 3


def retrying_deadlocks(function):
    """Run a transaction again when PostgreSQL made it a deadlock's victim.

    Two workers relating articles of one event lock some of the same article,
    story and frequency rows; PostgreSQL aborts one of them, which then holds
    nothing and may simply run again. Inside an outer transaction there is
    nothing to retry: the error goes up.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as exc:
                victim = getattr(exc.__cause__, "sqlstate", None) == DEADLOCK
                if not victim or connection.in_atomic_block or attempt == DEADLOCK_ATTEMPTS:
                    raise

    return wrapper


@dataclass
class Candidate:
    pk: int
    source_id: int
    published_at: datetime
    story_id: int | None
    similarity: float
    terms: dict
    score: float = 0.0


def base_term(feature):
    return feature[1:] if feature.startswith("^") else feature


def document_frequencies(words):
    terms = [*words, ALL_DOCUMENTS]
    if connection.vendor == "postgresql":
        # Each term an index probe, whatever the statistics say. As an IN
        # list, a table not analysed yet was read whole (16,636 rows for 48
        # terms); as a join, PostgreSQL's costs chose a hash join that read
        # it whole for a few hundred terms (2.7 to 3.2 ms, against 1.0 for
        # the probes). LIMIT 1 keeps the subquery a subquery, probed per term.
        table = DocumentFrequency._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT q.term, d.documents FROM unnest(%s::text[]) AS q (term)"
                f" CROSS JOIN LATERAL (SELECT documents FROM {table}"
                f" WHERE term = q.term LIMIT 1) d",
                [terms],
            )
            frequencies = dict(cursor.fetchall())
    else:
        rows = DocumentFrequency.objects.filter(term__in=terms)
        frequencies = dict(rows.values_list("term", "documents"))
    return frequencies, frequencies.pop(ALL_DOCUMENTS, 0)


def weigh_features(features, frequencies, documents):
    """Unit TF-IDF vector of the strongest VECTOR_TERMS features, plus a figures part.

    Document frequencies are kept for single words only (pairs would fill a
    table with one-off rows); a pair weighs the mean of its two words. The
    figures in the text (dates, counts, magnitudes, scores) also form a unit
    vector of their own, added with FIGURES_WEIGHT under a '#' prefix: two
    events of one kind share their words far more often than their figures.
    """

    def idf(word):
        return math.log((documents + 1) / (frequencies.get(word, 0) + 1)) + 1

    weights = {}
    figures = {}
    for feature, count in features.items():
        if " " in feature:
            first, second = feature.split(" ", 1)
            weight = PAIR_BOOST * (idf(first) + idf(second)) / 2
        elif feature.startswith("^"):
            weight = NAME_BOOST * idf(feature[1:])
            if has_digit(feature[1:]):
                figures["#" + feature[1:]] = (1 + math.log(count)) * idf(feature[1:])
        else:
            weight = idf(feature)
        weights[feature] = (1 + math.log(count)) * weight
    vector = unit(sorted(weights.items(), key=lambda item: -item[1])[:VECTOR_TERMS])
    figures = unit(sorted(figures.items(), key=lambda item: -item[1])[:FIGURE_TERMS])
    vector.update((term, math.sqrt(FIGURES_WEIGHT) * weight) for term, weight in figures.items())
    norm = math.sqrt(sum(weight * weight for weight in vector.values())) or 1.0
    return {feature: round(weight / norm, 5) for feature, weight in vector.items()}


def unit(items):
    norm = math.sqrt(sum(weight * weight for _, weight in items)) or 1.0
    return {feature: weight / norm for feature, weight in items}


def article_words(features):
    return {feature for feature in features if " " not in feature and not feature.startswith("^")}


def cosine(first, second):
    # The shared terms first, in C: most pairs share a few of their hundred.
    return sum(first[term] * second[term] for term in first.keys() & second.keys())


def count_documents(words_per_article):
    """Add one document per article to the frequency of each of its words."""
    totals = {}
    for words in words_per_article:
        for word in words:
            totals[word] = totals.get(word, 0) + 1
    totals[ALL_DOCUMENTS] = len(words_per_article)
    add_to_frequencies(totals)


def count_and_read(words):
    """Count one more document for each word, and read the frequencies as they were.

    One statement instead of a read now and a write once the article is
    indexed: the upsert returns each count with this article in it, and its
    own one is taken off again.
    """
    counts = add_to_frequencies(dict.fromkeys([*words, ALL_DOCUMENTS], 1))
    frequencies = {term: documents - 1 for term, documents in counts.items()}
    return frequencies, frequencies.pop(ALL_DOCUMENTS, 0)


@retrying_deadlocks
def add_to_frequencies(totals):
    """Add {word: documents} to the stored frequencies; returns them as they now are."""
    table = DocumentFrequency._meta.db_table
    # Sorted, so concurrent workers lock rows in the same order.
    items = sorted((word, n) for word, n in totals.items() if len(word) <= 100)
    upsert = (
        f" ON CONFLICT (term) DO UPDATE SET documents = {table}.documents + excluded.documents"
        " RETURNING term, documents"
    )
    counts = {}
    # Several statements commit together, so a retried deadlock counts nothing twice.
    chunks = transaction.atomic() if len(items) > FREQUENCY_CHUNK else contextlib.nullcontext()
    with chunks, connection.cursor() as cursor:
        for start in range(0, len(items), FREQUENCY_CHUNK):
            chunk = items[start : start + FREQUENCY_CHUNK]
            rows, params = pairs_sql(chunk, ("term", "text"), ("documents", "integer"))
            cursor.execute(f"INSERT INTO {table} (term, documents) {rows}{upsert}", params)
            counts.update(cursor.fetchall())
    return counts


def pairs_sql(pairs, first, second):
    """A SELECT of rows (first, second), in order; each is (column name, PostgreSQL type).

    Two array parameters on PostgreSQL, whatever the number of rows: the
    statement's text stays the same, so psycopg reuses its parsed form, and
    the values are not quoted one by one in Python (4 ms of each article's
    relating before).
    """
    (first_name, first_type), (second_name, second_type) = first, second
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT * FROM unnest(%s::{first_type}[], %s::{second_type}[])"
            f" AS pairs ({first_name}, {second_name})"
        )
        return sql, [[pair[0] for pair in pairs], [pair[1] for pair in pairs]]
    # WHERE true: SQLite's rule for an INSERT ... SELECT ... ON CONFLICT.
    sql = (
        f"SELECT column1 AS {first_name}, column2 AS {second_name} FROM (VALUES "
        + ", ".join(["(%s, %s)"] * len(pairs))
        + ") WHERE true"
    )
    return sql, [value for pair in pairs for value in pair]


def uncount(words):
    """Take back count_and_read's count: the article turned out to be a copy.

    Rows are locked in the upsert's order (code points, as Python sorts): a
    plain UPDATE ... WHERE term IN locks them in scan order, and against
    another worker's upsert that deadlocked.
    """
    terms = sorted({word for word in words if len(word) <= 100} | {ALL_DOCUMENTS})
    if not connection.features.has_select_for_update:  # SQLite: one writer at a time
        DocumentFrequency.objects.filter(term__in=terms).update(documents=F("documents") - 1)
        return
    table = DocumentFrequency._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET documents = {table}.documents - 1 FROM"
            f" (SELECT d.term FROM unnest(%s::text[]) AS q (term) JOIN {table} d"
            f" ON d.term = q.term ORDER BY d.term COLLATE \"C\" FOR UPDATE OF d) locked"
            f" WHERE {table}.term = locked.term",
            [terms],
        )


def index_rows(article_id, published_at, vector):
    strongest = sorted(vector.items(), key=lambda item: -item[1])[:INDEX_TERMS]
    return [
        ArticleTerm(article_id=article_id, term=term, weight=weight, published_at=published_at)
        for term, weight in strongest
        if len(term) <= 100
    ]


def find_candidates(article, vector):
    """Articles sharing the strongest terms within WINDOW, with their exact cosine."""
    query = sorted(vector.items(), key=lambda item: -item[1])[:QUERY_TERMS]
    if not query:
        return []
    rows = (
        Article.objects.visible()
        .filter(pk__in=RawSQL(*rough_candidates_sql(article, query)), copy_of__isnull=True)
        .exclude(url_hash=article.url_hash)
        .order_by()
        .values_list("pk", "source_id", "published_at", "story_id", "terms")
    )
    candidates = [
        Candidate(pk, source_id, published_at, story_id, cosine(vector, terms or {}), terms or {})
        for pk, source_id, published_at, story_id, terms in rows
    ]
    return sorted(candidates, key=lambda candidate: (-candidate.similarity, candidate.pk))


def rough_candidates_sql(article, query):
    """The ids of the MAX_CANDIDATES articles with the largest index overlap, summed in SQL.

    A subquery of find_candidates' one statement: the database adds up the
    postings, so the cost per article does not include moving every posting
    of common terms to Python.
    """
    table = ArticleTerm._meta.db_table
    weights, params = pairs_sql(query, ("term", "text"), ("w", "float8"))
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL: the ORM's own format
    window = [adapt(article.published_at - WINDOW), adapt(article.published_at + WINDOW)]
    if connection.vendor == "postgresql":
        # Each term's postings by its own index range scan, newest first and at
        # most POSTINGS_PER_TERM: as a join, PostgreSQL's costs chose to read
        # the whole table and hash it whenever the window held most of it
        # (9,900 postings read for 157 matches, 2.3 ms), and a word common in
        # a large archive would make the read grow with the archive. The
        # LIMIT also keeps the subquery a subquery, probed per term.
        sql = (
            f"SELECT p.article_id FROM ({weights}) q CROSS JOIN LATERAL"
            f" (SELECT t.article_id, t.weight FROM {table} t WHERE t.term = q.term"
            " AND t.published_at >= %s AND t.published_at <= %s"
            " ORDER BY t.published_at DESC LIMIT %s) p"
            " WHERE p.article_id <> %s"
            " GROUP BY p.article_id ORDER BY SUM(p.weight * q.w) DESC, p.article_id"
            " LIMIT %s"
        )
        return sql, params + window + [POSTINGS_PER_TERM, article.pk, MAX_CANDIDATES]
    sql = (
        f"SELECT t.article_id FROM {table} t JOIN ({weights}) q ON t.term = q.term"
        " WHERE t.published_at >= %s AND t.published_at <= %s AND t.article_id <> %s"
        " GROUP BY t.article_id ORDER BY SUM(t.weight * q.w) DESC, t.article_id"
        " LIMIT %s"
    )
    return sql, params + window + [article.pk, MAX_CANDIDATES]


def exact_original(article):
    """The earlier article this one copies by URL or by text (its fingerprint), if any."""

    def same(**lookup):
        # Only the indexed equality in SQL: with the other conditions there,
        # SQLite's planner picks the state index and reads every ready article.
        return (
            Article.objects.filter(**lookup)
            .order_by()
            .values_list("published_at", "pk", "copy_of_id", "state", "is_hidden")
        )

    matches = same(url_hash=article.url_hash)
    if article.fingerprint:
        matches = matches.union(same(fingerprint=article.fingerprint))
    own = (article.published_at, article.pk)
    match = min(
        (
            row
            for row in matches
            if row[:2] < own and row[3] == Article.State.READY and not row[4]
        ),
        default=None,
    )
    return (match[2] or match[1]) if match else None


def near_original(article, candidates):
    """The earlier candidate whose text is this one's, near enough (edited wire copy)."""
    close = [
        candidate.pk
        for candidate in candidates
        if candidate.similarity >= COPY_MIN_SCORE
        and (candidate.published_at, candidate.pk) < (article.published_at, article.pk)
    ]
    if not close:
        return None
    own = shingles(article.body_text)
    for pk, text in Article.objects.filter(pk__in=close).order_by("published_at", "pk").values_list(
        "pk", "body_text"
    ):
        other = shingles(text)
        if len(own & other) / (len(own | other) or 1) >= COPY_MIN_OVERLAP:
            return pk
    return None


def rank_candidates(article, candidates):
    """Prefer other sources and articles close in time at similar similarity."""
    ranked = []
    for candidate in candidates:
        if candidate.similarity < MIN_SCORE:
            continue
        age = abs((candidate.published_at - article.published_at).total_seconds())
        score = candidate.similarity
        score *= 1 - STALE_FACTOR * min(1.0, age / WINDOW.total_seconds())
        if candidate.source_id == article.source_id:
            score *= SAME_SOURCE_FACTOR
        if candidate.story_id != article.story_id:
            score *= OTHER_STORY_FACTOR
        candidate.score = round(score, 4)
        ranked.append(candidate)
    ranked.sort(key=lambda candidate: (-candidate.score, candidate.pk))
    floor = RELATIVE_MIN_SCORE * ranked[0].score if ranked else 0.0
    return [candidate for candidate in ranked if candidate.score >= floor]


def analyse_article(article):
    """Terms, frequencies, candidates and copy check; `article` is relate_article's, with `indexed`."""
    features = article_features(article.title, article.body_text)
    words = article_words(features)
    # Extraction stores it with the text it hashes; rows made otherwise have none.
    article.fingerprint = article.fingerprint or text_fingerprint(article.body_text)
    # A copy of the same URL or text is known before counting: it is never
    # counted in the frequencies, nor counted and then taken back.
    original = exact_original(article)
    # Counted in the frequencies once, so a re-run counts nothing twice.
    counted = not article.indexed and original is None
    frequencies, documents = count_and_read(words) if counted else document_frequencies(words)
    vector = weigh_features(features, frequencies, documents)
    article.terms = vector
    candidates = find_candidates(article, vector)
    if original is None:
        original = near_original(article, candidates)
    if original is not None:
        candidates = [candidate for candidate in candidates if candidate.pk != original]
    article.copy_of_id = original
    Article.objects.filter(pk=article.pk).update(
        terms=vector, fingerprint=article.fingerprint, copy_of=original
    )
    if original is None:
        if counted:  # findable by later articles
            ArticleTerm.objects.bulk_create(index_rows(article.pk, article.published_at, vector))
    else:
        if counted:
            uncount(words)
        # A copy is shown once, through its original: never as a candidate or a link.
        ArticleTerm.objects.filter(article=article).delete()
        RelatedLink.objects.filter(to_article=article).delete()
    return candidates


@retrying_deadlocks
@transaction.atomic
def store_related_links(article, ranked):
    """The article's links; older articles learn of it too, in a constant number of statements."""
    ranked = ranked[:TOP_K]
    RelatedLink.objects.filter(from_article=article).delete()
    RelatedLink.objects.bulk_create(
        [RelatedLink(from_article=article, to_article_id=pk, score=score) for pk, score in ranked]
    )
    if article.copy_of_id or not ranked:
        return
    # Each older one keeps its best TOP_K and, as for the newer one, nothing
    # far below its best.
    existing = {pk: [] for pk, _ in ranked}
    previous = {}  # a link to this article from an earlier run: replaced
    rows = RelatedLink.objects.filter(from_article_id__in=existing)
    columns = ("pk", "from_article_id", "to_article_id", "score")
    for link_id, from_id, to_id, score in rows.values_list(*columns):
        if to_id == article.pk:
            previous[from_id] = link_id
        else:
            existing[from_id].append((score, link_id))
    stale = []
    added = []
    for pk, score in ranked:
        new = (score, None)
        links = sorted([*existing[pk], new], key=lambda link: (-link[0], link[1] is not None))
        floor = RELATIVE_MIN_SCORE * links[0][0]
        kept = [link for link in links if link[0] >= floor][:TOP_K]
        if new not in kept:
            # Too weak for the older article: it keeps what it had.
            stale.extend([previous[pk]] if pk in previous else [])
            continue
        added.append(RelatedLink(from_article_id=pk, to_article=article, score=score))
        stale.extend(link[1] for link in links if link[1] is not None and link not in kept)
    RelatedLink.objects.filter(pk__in=stale).delete()
    RelatedLink.objects.bulk_create(
        added,
        update_conflicts=True,
        unique_fields=["from_article", "to_article"],
        update_fields=["score"],
    )


def add_vector(total, terms, sign=1.0):
    for term, weight in terms.items():
        total[term] = total.get(term, 0.0) + sign * weight


def centroid_similarity(terms, total, own=False):
    """Cosine of an article to a story's summed vector (without itself when it is a member)."""
    if own:
        total = dict(total)
        add_vector(total, terms, -1.0)
    norm = math.sqrt(sum(weight * weight for weight in total.values()))
    return cosine(terms, total) / norm if norm > 1e-9 else 0.0


def story_members(story_ids):
    """{story_id: {article_id: terms}}: each story's newest originals, in one query."""
    rows = (
        Article.objects.visible()
        .filter(story_id__in=story_ids, copy_of__isnull=True)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("story_id")],
                order_by=[F("published_at").desc(), F("pk").desc()],
            )
        )
        .filter(position__lte=STORY_MAX_MEMBERS)
        .order_by()
        .values_list("story_id", "pk", "terms")
    )
    members = {story_id: {} for story_id in story_ids}
    for story_id, pk, terms in rows:
        members[story_id][pk] = terms or {}
    return members


def best_story(terms, current, sums):
    """(story_id, similarity) of the closest centroid, the current story's without the article."""
    scores = {
        story_id: centroid_similarity(terms, total, own=story_id == current)
        for story_id, total in sums.items()
    }
    if not scores:
        return None, 0.0
    story_id = max(scores, key=lambda key: (scores[key], key == current, -key))
    return story_id, scores[story_id]


def plan_stories(article, candidates):
    """The article's story (None: a new one) and {neighbour id: story id} moves.

    The article joins the story whose centroid is close enough; joining on the
    single nearest neighbour would chain two events of the same kind together.
    Then its closest neighbours, and any nearby article alone in its story,
    may move to a story that fits them better now.
    """
    nearby = [
        candidate
        for candidate in candidates
        if candidate.story_id and candidate.similarity >= STORY_MIN_SCORE
    ]
    story_ids = {candidate.story_id for candidate in nearby}
    if article.story_id:
        story_ids.add(article.story_id)
    members = story_members(story_ids)
    members.get(article.story_id, {}).pop(article.pk, None)
    sums = {}
    for story_id, articles in members.items():
        sums[story_id] = {}
        for terms in articles.values():
            add_vector(sums[story_id], terms)
    sums = {story_id: total for story_id, total in sums.items() if total}
    chosen, similarity = best_story(article.terms, None, sums)
    if similarity < STORY_MIN_LINKAGE:
        chosen = article.story_id
    # Neighbours are weighed against the stories as they will be, the new
    # story included (under the article's own id until it has one).
    own = chosen or -article.pk
    add_vector(sums.setdefault(own, {}), article.terms)
    sizes = {story_id: len(articles) for story_id, articles in members.items()}
    sizes[own] = sizes.get(own, 0) + 1
    moves = {}
    alone = [
        candidate
        for candidate in nearby[STORY_REVISIT:]
        if sizes.get(candidate.story_id) == 1
    ]
    for candidate in nearby[:STORY_REVISIT] + alone:
        current = candidate.story_id
        if candidate.pk not in members.get(current, {}):
            continue
        target, similarity = best_story(candidate.terms, current, sums)
        linkage = STORY_SINGLE_LINKAGE if sizes[current] == 1 else STORY_MIN_LINKAGE
        if target == current or similarity < linkage:
            continue
        staying = centroid_similarity(candidate.terms, sums[current], own=True)
        if sizes[current] > 1 and similarity <= staying:
            continue
        add_vector(sums[current], candidate.terms, -1.0)
        add_vector(sums[target], candidate.terms)
        sizes[current] -= 1
        sizes[target] += 1
        moves[candidate.pk] = target
    return chosen, moves


@retrying_deadlocks
@transaction.atomic
def assign_story(article, candidates):
    """Join the copied original's story, or the closest story, or start one; revise neighbours."""
    old_story_id = article.story_id
    moves = {}
    if article.copy_of_id:
        original = Article.objects.filter(pk=article.copy_of_id)
        story_id = original.values_list("story_id", flat=True).first()
    else:
        story_id, moves = plan_stories(article, candidates)
    if story_id is None:
        story = Story.objects.create(
            lead_article=article,
            first_published_at=article.published_at,
            updated_at=article.published_at,
        )
        story_id = story.pk
        moves = {pk: story_id if target == -article.pk else target for pk, target in moves.items()}
    moves[article.pk] = story_id
    touched = {story_id, *moves.values()}
    touched.update(candidate.story_id for candidate in candidates if candidate.pk in moves)
    if old_story_id:
        touched.add(old_story_id)
    # Copies follow their original.
    Article.objects.filter(Q(pk__in=moves) | Q(copy_of__in=moves)).update(
        story_id=Case(
            *[When(Q(pk=pk) | Q(copy_of=pk), then=Value(target)) for pk, target in moves.items()],
            output_field=IntegerField(),
        )
    )
    refresh_stories(touched)
    article.story_id = story_id
    for candidate in candidates:
        candidate.story_id = moves.get(candidate.pk, candidate.story_id)
    return story_id


def refresh_story(story):
    refresh_stories([story.pk])


def refresh_stories(story_ids):
    """Counts, dates and lead of each story; stories left without articles go.

    Three statements, whatever the number of stories: this runs for every new
    article, and the ORM form (aggregate, window, bulk update) cost five
    statements and about 5 ms of CPU to build them.
    """
    story_ids = sorted({pk for pk in story_ids if pk})
    if not story_ids:
        return
    story, article = Story._meta.db_table, Article._meta.db_table
    members = (
        f"FROM {article} a WHERE a.story_id = {story}.id AND a.state = %s AND a.is_hidden = %s"
    )
    visible = [Article.State.READY, False]
    ids = ", ".join(["%s"] * len(story_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {story} SET"
            f" article_count = (SELECT COUNT(*) {members}),"
            f" source_count = (SELECT COUNT(DISTINCT a.source_id) {members}),"
            f" first_published_at = (SELECT MIN(a.published_at) {members}),"
            f" updated_at = (SELECT MAX(a.published_at) {members}),"
            # The lead is the longest original text: the fullest account of the event.
            f" lead_article_id = (SELECT a.id {members} ORDER BY"
            " CASE WHEN a.copy_of_id IS NULL THEN 0 ELSE 1 END, a.word_count DESC,"
            " a.published_at, a.id LIMIT 1)"
            f" WHERE id IN ({ids}) AND EXISTS (SELECT 1 {members})",
            visible * 5 + story_ids + visible,
        )
        # Each member learns whether it is now the lead (only changed rows are written).
        cursor.execute(
            f"UPDATE {article} SET is_story_lead = NOT is_story_lead"
            f" WHERE story_id IN ({ids}) AND is_story_lead <> EXISTS (SELECT 1 FROM {story} s"
            f" WHERE s.id = {article}.story_id AND s.lead_article_id = {article}.id)",
            story_ids,
        )
        cursor.execute(
            f"DELETE FROM {story} WHERE id IN ({ids})"
            f" AND NOT EXISTS (SELECT 1 FROM {article} a WHERE a.story_id = {story}.id)",
            story_ids,
        )


def relate_article(article_id):
    # Relating reads the title and text; not the page's HTML or the search index.
    article = (
        Article.objects.filter(pk=article_id)
        .visible()
        .defer("body_html", "feed_content_html", "terms", "key_points", "search_vector")
        .annotate(indexed=Exists(ArticleTerm.objects.filter(article=OuterRef("pk"))))
        .first()
    )
    if article is None:
        return []
    candidates = analyse_article(article)
    assign_story(article, candidates)
    ranked = rank_candidates(article, candidates)[:TOP_K]
    links = [(candidate.pk, candidate.score) for candidate in ranked]
    store_related_links(article, links)
    return links
