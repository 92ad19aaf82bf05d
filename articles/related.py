"""Related links and stories: an inverted index of each article's strongest terms, exact cosine on the best few hundred."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Q

from .models import Article, ArticleTerm, DocumentFrequency, RelatedLink, Story
from .text import article_features, shingles, text_fingerprint

TOP_K = 6
MIN_SCORE = 0.12
# A link much weaker than the article's best one is most often the same
# kind of event somewhere else.
RELATIVE_MIN_SCORE = 0.7
STORY_MIN_SCORE = 0.2
# Cosine to the centroid of a story's members: one close neighbour is not
# enough to join, so two events of the same kind stay apart.
STORY_MIN_LINKAGE = 0.25
STORY_MAX_MEMBERS = 30
WINDOW = timedelta(days=7)
VECTOR_TERMS = 120
INDEX_TERMS = 30
QUERY_TERMS = 40
MAX_CANDIDATES = 300
# Names and figures count more than common words; word pairs a little.
NAME_BOOST = 1.6
PAIR_BOOST = 1.0
SAME_SOURCE_FACTOR = 0.85
STALE_FACTOR = 0.15
COPY_MIN_SCORE = 0.9
COPY_MIN_OVERLAP = 0.8
ALL_DOCUMENTS = ""  # the DocumentFrequency row that counts indexed articles


@dataclass
class Candidate:
    pk: int
    source_id: int
    published_at: datetime
    story_id: int | None
    similarity: float
    score: float = 0.0


def base_term(feature):
    return feature[1:] if feature.startswith("^") else feature


def document_frequencies(words):
    rows = DocumentFrequency.objects.filter(term__in=[*words, ALL_DOCUMENTS])
    frequencies = dict(rows.values_list("term", "documents"))
    return frequencies, frequencies.pop(ALL_DOCUMENTS, 0)


def weigh_features(features, frequencies, documents):
    """Unit TF-IDF vector of the strongest VECTOR_TERMS features.

    Document frequencies are kept for single words only (pairs would fill a
    table with one-off rows); a pair weighs the mean of its two words.
    """

    def idf(word):
        return math.log((documents + 1) / (frequencies.get(word, 0) + 1)) + 1

    weights = {}
    for feature, count in features.items():
        if " " in feature:
            first, second = feature.split(" ", 1)
            weight = PAIR_BOOST * (idf(first) + idf(second)) / 2
        elif feature.startswith("^"):
            weight = NAME_BOOST * idf(feature[1:])
        else:
            weight = idf(feature)
        weights[feature] = (1 + math.log(count)) * weight
    strongest = sorted(weights.items(), key=lambda item: -item[1])[:VECTOR_TERMS]
    norm = math.sqrt(sum(weight * weight for _, weight in strongest)) or 1.0
    return {feature: round(weight / norm, 5) for feature, weight in strongest}


def article_words(features):
    return {feature for feature in features if " " not in feature and not feature.startswith("^")}


def article_vector(article):
    features = article_features(article.title, article.body_text)
    frequencies, documents = document_frequencies(article_words(features))
    return features, weigh_features(features, frequencies, documents)


def cosine(first, second):
    if len(second) < len(first):
        first, second = second, first
    return sum(weight * second.get(term, 0.0) for term, weight in first.items())


def is_indexed(article):
    return ArticleTerm.objects.filter(article=article).exists()


def count_documents(words_per_article):
    """Add one document per article to the frequency of each of its words."""
    totals = {}
    for words in words_per_article:
        for word in words:
            if len(word) <= 100:
                totals[word] = totals.get(word, 0) + 1
    totals[ALL_DOCUMENTS] = len(words_per_article)
    table = DocumentFrequency._meta.db_table
    # Sorted, so concurrent workers lock rows in the same order.
    items = sorted(totals.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            cursor.execute(
                f"INSERT INTO {table} (term, documents) VALUES "
                + ", ".join(["(%s, %s)"] * len(chunk))
                + f" ON CONFLICT (term) DO UPDATE SET documents = {table}.documents + excluded.documents",
                [value for item in chunk for value in item],
            )


def index_rows(article_id, published_at, vector):
    strongest = sorted(vector.items(), key=lambda item: -item[1])[:INDEX_TERMS]
    return [
        ArticleTerm(article_id=article_id, term=term, weight=weight, published_at=published_at)
        for term, weight in strongest
        if len(term) <= 100
    ]


def index_article(article, features, vector):
    """Make the article findable by later ones; once, so a re-run counts nothing twice."""
    if is_indexed(article):
        return
    ArticleTerm.objects.bulk_create(index_rows(article.pk, article.published_at, vector))
    count_documents([article_words(features)])


def find_candidates(article, vector):
    """Articles sharing the strongest terms within WINDOW, with their exact cosine."""
    query = sorted(vector.items(), key=lambda item: -item[1])[:QUERY_TERMS]
    best = rough_candidates(article, query)
    rows = (
        Article.objects.visible()
        .filter(pk__in=best, copy_of__isnull=True)
        .exclude(url_hash=article.url_hash)
        .order_by()
        .values_list("pk", "source_id", "published_at", "story_id", "terms")
    )
    candidates = [
        Candidate(pk, source_id, published_at, story_id, cosine(vector, terms or {}))
        for pk, source_id, published_at, story_id, terms in rows
    ]
    return sorted(candidates, key=lambda candidate: (-candidate.similarity, candidate.pk))


def rough_candidates(article, query):
    """Ids of the MAX_CANDIDATES articles with the largest index overlap, summed in SQL.

    Only ids come back: the database adds up the postings, so the cost per
    article does not include moving every posting of common terms to Python.
    """
    if not query:
        return []
    table = ArticleTerm._meta.db_table
    weights = " UNION ALL ".join(["SELECT %s AS term, %s AS w"] * len(query))
    sql = (
        f"SELECT t.article_id FROM {table} t JOIN ({weights}) q ON t.term = q.term"
        " WHERE t.published_at >= %s AND t.published_at <= %s AND t.article_id <> %s"
        " GROUP BY t.article_id ORDER BY SUM(t.weight * q.w) DESC, t.article_id"
        " LIMIT %s"
    )
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL: the ORM's own format
    params = [value for pair in query for value in pair] + [
        adapt(article.published_at - WINDOW),
        adapt(article.published_at + WINDOW),
        article.pk,
        MAX_CANDIDATES,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def find_original(article, vector, candidates):
    """The earlier article this one copies: same URL or text elsewhere, or near-identical text."""
    earlier = Q(published_at__lt=article.published_at) | Q(
        published_at=article.published_at, pk__lt=article.pk
    )
    same = Q(url_hash=article.url_hash)
    if article.fingerprint:
        same |= Q(fingerprint=article.fingerprint)
    match = (
        Article.objects.visible()
        .filter(same)
        .filter(earlier)
        .exclude(pk=article.pk)
        .order_by("published_at", "pk")
        .values_list("pk", "copy_of_id")
        .first()
    )
    if match:
        return match[1] or match[0]
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
        score = candidate.similarity * (1 - STALE_FACTOR * min(1.0, age / WINDOW.total_seconds()))
        if candidate.source_id == article.source_id:
            score *= SAME_SOURCE_FACTOR
        candidate.score = round(score, 4)
        ranked.append(candidate)
    ranked.sort(key=lambda candidate: (-candidate.score, candidate.pk))
    floor = RELATIVE_MIN_SCORE * ranked[0].score if ranked else 0.0
    return [candidate for candidate in ranked if candidate.score >= floor]


def find_related_articles(article):
    """[(article_id, score)] best first, at most TOP_K; also fills the article's terms and copy_of."""
    return [(candidate.pk, candidate.score) for candidate in analyse_article(article)[1]][:TOP_K]


def analyse_article(article):
    features, vector = article_vector(article)
    article.terms = vector
    article.fingerprint = text_fingerprint(article.body_text)
    candidates = find_candidates(article, vector)
    original = find_original(article, vector, candidates)
    if original is not None:
        candidates = [candidate for candidate in candidates if candidate.pk != original]
    article.copy_of_id = original
    Article.objects.filter(pk=article.pk).update(
        terms=vector, fingerprint=article.fingerprint, copy_of=original
    )
    if original is None:
        index_article(article, features, vector)
    else:
        # A copy is shown once, through its original: never as a candidate or a link.
        ArticleTerm.objects.filter(article=article).delete()
        RelatedLink.objects.filter(to_article=article).delete()
    return candidates, rank_candidates(article, candidates)


@transaction.atomic
def store_related_links(article, ranked):
    ranked = ranked[:TOP_K]
    RelatedLink.objects.filter(from_article=article).delete()
    RelatedLink.objects.bulk_create(
        [RelatedLink(from_article=article, to_article_id=pk, score=score) for pk, score in ranked]
    )
    if article.copy_of_id:
        return
    # Older articles learn of the newer one too, keeping their best TOP_K
    # and, as for the newer one, nothing far below their best.
    best = dict(
        RelatedLink.objects.filter(from_article_id__in=[pk for pk, _ in ranked])
        .values("from_article_id")
        .annotate(best=Max("score"))
        .values_list("from_article_id", "best")
    )
    for pk, score in ranked:
        if score < RELATIVE_MIN_SCORE * best.get(pk, 0.0):
            continue
        RelatedLink.objects.update_or_create(
            from_article_id=pk, to_article=article, defaults={"score": score}
        )
        surplus = RelatedLink.objects.filter(from_article_id=pk).order_by("-score", "-id")[TOP_K:]
        RelatedLink.objects.filter(
            Q(pk__in=list(surplus.values_list("pk", flat=True)))
            | Q(from_article_id=pk, score__lt=RELATIVE_MIN_SCORE * max(score, best.get(pk, 0.0)))
        ).delete()


def choose_story(article, candidates):
    """The story whose centroid is close enough to the article; None to start a new one.

    Joining on the single nearest neighbour chains two events of the same kind
    together; the centroid of the story's members does not.
    """
    story_ids = {
        candidate.story_id
        for candidate in candidates
        if candidate.story_id and candidate.similarity >= STORY_MIN_SCORE
    }
    best, best_similarity = None, STORY_MIN_LINKAGE
    for story_id in story_ids:
        members = (
            Article.objects.visible()
            .filter(story_id=story_id, copy_of__isnull=True)
            .exclude(pk=article.pk)
            .order_by("-published_at")
            .values_list("terms", flat=True)[:STORY_MAX_MEMBERS]
        )
        centroid = {}
        for terms in members:
            for term, weight in (terms or {}).items():
                centroid[term] = centroid.get(term, 0.0) + weight
        norm = math.sqrt(sum(weight * weight for weight in centroid.values())) or 1.0
        similarity = cosine(article.terms, centroid) / norm
        if similarity >= best_similarity:
            best, best_similarity = story_id, similarity
    return best


@transaction.atomic
def assign_story(article, candidates):
    """Join the copied original's story, or the closest story, or start one."""
    if article.copy_of_id:
        original = Article.objects.filter(pk=article.copy_of_id).first()
        story_id = original.story_id if original else None
    else:
        story_id = choose_story(article, candidates)
    if story_id is None:
        if article.story_id:
            return article.story
        story = Story.objects.create(
            lead_article=article,
            first_published_at=article.published_at,
            updated_at=article.published_at,
        )
        Article.objects.filter(pk=article.pk).update(story=story)
        article.story = story
        return story
    story = Story.objects.get(pk=story_id)
    old_story_id = article.story_id
    Article.objects.filter(pk=article.pk).update(story=story)
    article.story = story
    refresh_story(story)
    if old_story_id and old_story_id != story.pk:
        old = Story.objects.filter(pk=old_story_id).first()
        if old and not old.articles.exists():
            old.delete()
        elif old:
            refresh_story(old)
    return story


def refresh_story(story):
    members = Article.objects.filter(story=story).visible()
    stats = members.aggregate(articles=Count("pk"), sources=Count("source", distinct=True))
    first = members.order_by("published_at").first()
    latest = members.order_by("-published_at").first()
    if first is None:
        return
    # The lead is the longest original text: the fullest account of the event.
    lead = (
        members.filter(copy_of__isnull=True).order_by("-word_count", "published_at").first()
        or first
    )
    Story.objects.filter(pk=story.pk).update(
        article_count=stats["articles"],
        source_count=stats["sources"],
        first_published_at=first.published_at,
        updated_at=latest.published_at,
        lead_article=lead,
    )


def relate_article(article_id):
    article = Article.objects.filter(pk=article_id).visible().first()
    if article is None:
        return []
    candidates, ranked = analyse_article(article)
    links = [(candidate.pk, candidate.score) for candidate in ranked[:TOP_K]]
    store_related_links(article, links)
    assign_story(article, candidates)
    return links
