from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article, ArticleTerm, DocumentFrequency, RelatedLink, Story
from articles.related import relate_article
from articles.related.vectors import article_words
from articles.text import article_features
from tests.factories import make_article, make_source

QUAKE = (
    "A magnitude {magnitude} earthquake struck {place} on {day}, killing {dead} people and "
    "injuring hundreds, the {agency} said. Rescue teams in {place} searched collapsed buildings "
    "near {landmark} through the night. {official}, the regional governor, said {place} needed "
    "tents and water. Aftershocks shook {landmark} again in the morning. {detail}"
)
EVENTS = {
    "aceh": dict(
        magnitude="6.1", place="Aceh", day="Tuesday", dead="23", agency="Meteorology Agency",
        landmark="Takengon Mosque", official="Zaini Abdullah",
        detail="Fishermen in Banda Aceh and Lhokseumawe feared a tsunami; palm oil plantations in "
        "Bener Meriah lost their roads, and the Gayo coffee harvest was halted",
    ),
    "chile": dict(
        magnitude="7.4", place="Valparaiso", day="Sunday", dead="9", agency="Seismology Center",
        landmark="Prat Pier", official="Rodrigo Vargas",
        detail="Copper mines near Antofagasta and the port of San Antonio suspended work; the "
        "Navy lifted a tsunami alert after Congress and the wine cellars of Casablanca were checked",
    ),
}
FILLERS = [
    "The central bank held interest rates steady as inflation slowed across the eurozone.",
    "A football club appointed a new coach after a poor run of league results this season.",
    "Researchers published a study on sleep and memory in older adults in a medical journal.",
    "The city opened a new cycling lane along the river after months of construction work.",
]


def quake_text(event, variant):
    """The same facts told in a slightly different order and wording by each outlet."""
    sentences = QUAKE.format(**EVENTS[event]).split(". ")
    extra = [f"Reporter {variant} added that schools in the area stayed closed", FILLERS[variant % 4]]
    return ". ".join(sentences[variant % 2 :] + sentences[: variant % 2] + extra)


def make_quake(event, variant, **overrides):
    fields = {
        "title": f"Earthquake in {EVENTS[event]['place']} kills {EVENTS[event]['dead']}",
        "body_text": quake_text(event, variant),
        "published_at": timezone.now() - timedelta(hours=10 - variant),
    }
    fields.update(overrides)
    return make_article(**fields)


def relate_all(articles):
    for article in sorted(articles, key=lambda a: a.published_at):
        relate_article(article.pk)
    for article in articles:
        article.refresh_from_db()


def counted_documents():
    """{term: documents}; the empty term counts the indexed articles."""
    return dict(DocumentFrequency.objects.values_list("term", "documents"))


def linked_ids(article):
    return list(RelatedLink.objects.filter(from_article=article).values_list("to_article_id", flat=True))


@pytest.mark.django_db
def test_same_event_from_other_sources_is_related_without_self_link():
    """Reports of one event from different sources link to each other, never to themselves."""
    articles = [make_quake("aceh", n) for n in range(3)]
    for n in range(4):
        make_article(title=f"Unrelated news {n}", body_text=FILLERS[n])
    relate_all(articles)
    for article in articles:
        links = linked_ids(article)
        assert article.pk not in links
        assert set(links) == {other.pk for other in articles if other != article}


@pytest.mark.django_db
def test_same_source_ranks_below_other_sources_at_similar_scores():
    """At the same similarity, an article from another source comes first."""
    home = make_source()
    article = make_quake("aceh", 0, source=home)
    same_source = make_quake("aceh", 1, source=home)
    other_source = make_quake("aceh", 3, published_at=same_source.published_at)
    relate_all([same_source, other_source])
    relate_article(article.pk)
    links = list(RelatedLink.objects.filter(from_article=article))
    assert [link.to_article_id for link in links][:2] == [other_source.pk, same_source.pk]


@pytest.mark.django_db
def test_copies_are_marked_and_never_linked():
    """The same wire text in another feed, or the same URL, is a copy of the first one seen."""
    original = make_quake("aceh", 0, published_at=timezone.now() - timedelta(hours=3))
    wire_copy = make_article(
        title="Quake kills 23 in Aceh (wire)",
        body_text=original.body_text.replace(". ", ".  "),
        published_at=timezone.now() - timedelta(hours=2),
    )
    same_url = make_article(
        url=original.url,
        title=original.title,
        body_text=original.body_text + " Updated with a new photo gallery of the damage.",
        published_at=timezone.now() - timedelta(hours=1),
    )
    # An edited copy: its own fingerprint, found by its near-identical text.
    edited = make_article(
        title=original.title,
        body_text=original.body_text + " Editing by Jane Doe.",
        published_at=timezone.now() - timedelta(minutes=30),
    )
    other = make_quake("aceh", 1)
    relate_all([original, wire_copy])
    counts = counted_documents()
    relate_all([same_url, edited, other])
    # Only `other` counts: the exact copies never did, the edited one took its count back.
    after = counted_documents()
    added = {"", *article_words(article_features(other.title, other.body_text))}
    assert {term: after.get(term, 0) - counts.get(term, 0) for term in after | counts} == {
        term: int(term in added) for term in after | counts
    }

    assert original.copy_of is None
    assert wire_copy.copy_of == original
    assert same_url.copy_of == original
    assert edited.copy_of == original and edited.fingerprint != original.fingerprint
    assert wire_copy.story == original.story
    assert not ArticleTerm.objects.filter(article__in=[wire_copy, same_url, edited]).exists()
    assert original.pk not in linked_ids(wire_copy)
    for article in (original, other):
        assert not {wire_copy.pk, same_url.pk, edited.pk} & set(linked_ids(article))
    assert linked_ids(original) == [other.pk]


@pytest.mark.django_db
def test_stories_join_across_sources_but_not_across_events_of_one_kind():
    """Two earthquakes in one week make two stories, each covered by several sources."""
    aceh = [make_quake("aceh", n) for n in range(4)]
    chile = [make_quake("chile", n) for n in range(4)]
    relate_all(aceh + chile)
    assert len({article.story_id for article in aceh}) == 1
    assert len({article.story_id for article in chile}) == 1
    assert aceh[0].story_id != chile[0].story_id
    story = aceh[0].story
    story.refresh_from_db()
    assert (story.article_count, story.source_count) == (4, 4)
    assert Article.objects.filter(copy_of__isnull=False).count() == 0


@pytest.mark.django_db
def test_relating_twice_adds_nothing():
    """A repeated task keeps the same links and index rows (scores may follow newer term counts)."""
    articles = [make_quake("aceh", n) for n in range(3)]
    relate_all(articles)
    before = sorted(RelatedLink.objects.values_list("from_article", "to_article"))
    terms = ArticleTerm.objects.count()
    counts = counted_documents()
    assert counts[""] == 3 and counts["searched"] == 3
    relate_all(articles)
    assert sorted(RelatedLink.objects.values_list("from_article", "to_article")) == before
    assert ArticleTerm.objects.count() == terms
    assert counted_documents() == counts


@pytest.mark.django_db
def test_relating_costs_the_same_statements_as_the_archive_grows():
    """One new article: a bounded number of SQL statements, however large the archive.

    The count differs by path only (a new story or an existing one), not by size.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements_for_new_article(variant):
        article = make_quake("aceh", variant, published_at=timezone.now())
        with CaptureQueriesContext(connection) as captured:
            relate_article(article.pk)
        return len(captured)

    relate_all([make_quake("aceh", n) for n in range(2)] + [make_quake("chile", n) for n in range(2)])
    few = statements_for_new_article(2)
    relate_all([make_quake("aceh", n) for n in range(3, 9)] + [make_quake("chile", n) for n in range(2, 9)])
    many = statements_for_new_article(9)
    assert few <= 30 and many <= 30


@pytest.mark.postgresql(reason="the per-term cap is PostgreSQL's LATERAL index probe; SQLite reads a term's postings by one join")
@pytest.mark.django_db
def test_candidates_count_each_terms_newest_postings_only(monkeypatch):
    """At most POSTINGS_PER_TERM postings a term, the newest, each term read by its
    own index range: a word common across the archive cannot make the search grow."""
    from django.db import connection

    from articles.related import index

    monkeypatch.setattr(index, "POSTINGS_PER_TERM", 2)
    now = timezone.now()
    article = make_article(published_at=now)
    older = []
    for hours in (1, 2, 3, 4):
        other = make_article(published_at=now - timedelta(hours=hours))
        ArticleTerm.objects.create(
            article=other, term="harbour", weight=0.5, published_at=other.published_at
        )
        older.append(other)
    rare = older[3]  # the oldest shares a second term, which alone reaches it
    ArticleTerm.objects.create(article=rare, term="ferry", weight=0.1, published_at=rare.published_at)
    with connection.cursor() as cursor:
        cursor.execute(*index.rough_candidates_sql(article, [("harbour", 1.0), ("ferry", 1.0)]))
        found = [row[0] for row in cursor.fetchall()]
    # The two newest by "harbour" (0.5 each), then the oldest by "ferry" alone (0.1).
    assert found == [older[0].pk, older[1].pk, rare.pk]


@pytest.mark.django_db
def test_copy_lookup_asks_only_indexed_columns():
    """Copies are found by url_hash or fingerprint alone: SQLite would otherwise scan by state."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    original = make_quake("aceh", 0, published_at=timezone.now() - timedelta(hours=3))
    relate_article(original.pk)
    copy = make_article(
        title="Quake kills 23 in Aceh (wire)", body_text=original.body_text, published_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as captured:
        relate_article(copy.pk)
    copy.refresh_from_db()
    assert copy.copy_of == original
    lookups = [query["sql"] for query in captured if " UNION " in query["sql"] and "url_hash" in query["sql"]]
    assert len(lookups) == 1
    for part in lookups[0].split(" UNION "):
        where = part.split(" WHERE ", 1)[1]
        assert "state" not in where and "published_at" not in where


def test_figures_weigh_as_a_vector_of_their_own():
    """Dates and counts form their own part of the vector, so they count even in a long text."""
    from articles.related.vectors import weigh_features
    from articles.text import article_features

    features = article_features("Earthquake kills 23", "A magnitude 6.1 earthquake struck on Tuesday. " * 3)
    vector = weigh_features(features, {}, 10)
    assert {"#6.1", "#23"} <= set(vector)
    assert abs(sum(weight * weight for weight in vector.values()) - 1) < 1e-3


@pytest.mark.parametrize("alone", [True, False])
@pytest.mark.django_db
def test_an_article_alone_in_its_story_joins_a_close_story_at_a_lower_linkage(alone):
    """A story of one article is revisited at STORY_SINGLE_LINKAGE; one with other members is not."""
    from articles.related import index, stories, vectors

    def story_of(*articles):
        first = articles[0]
        story = Story.objects.create(
            lead_article=first, first_published_at=first.published_at, updated_at=first.published_at
        )
        Article.objects.filter(pk__in=[article.pk for article in articles]).update(story=story)
        return story.pk

    # Between the two linkages to the story's centroid.
    similarity = (stories.STORY_SINGLE_LINKAGE + stories.STORY_MIN_LINKAGE) / 2
    near = {"quake": similarity, "other": (1 - similarity**2) ** 0.5}
    covered = [make_article(terms={"quake": 1.0}) for _ in range(3)]
    story = story_of(*covered)
    singleton = make_article(terms=near)
    company = [singleton] if alone else [singleton, make_article(terms={"unrelated": 1.0})]
    story_of(*company)
    for other in [*covered, singleton]:
        other.refresh_from_db()
    article = make_article(terms={"quake": 1.0})
    candidates = [
        index.Candidate(
            other.pk,
            other.source_id,
            other.published_at,
            other.story_id,
            vectors.cosine(article.terms, other.terms),
            other.terms,
        )
        for other in [*covered, singleton]
    ]
    candidates.sort(key=lambda candidate: -candidate.similarity)
    chosen, moves = stories.plan_stories(article, candidates)
    assert chosen == story
    assert moves == ({singleton.pk: story} if alone else {})


@pytest.mark.postgresql(reason="PostgreSQL's deadlock detection; SQLite's writers take turns and never deadlock")
@pytest.mark.django_db(transaction=True)
def test_the_victim_of_a_deadlock_runs_again():
    """Two workers lock the same two rows in opposite orders: PostgreSQL aborts one
    transaction, and retrying_deadlocks runs it again instead of failing the task."""
    import threading

    from django.db import connection, transaction
    from django.db.models import F

    from articles.related.deadlocks import retrying_deadlocks

    DocumentFrequency.objects.bulk_create(
        [DocumentFrequency(term="north", documents=0), DocumentFrequency(term="south", documents=0)]
    )
    both_hold_one = threading.Barrier(2, timeout=60)
    one_committed = threading.Event()
    runs, errors = {"a": 0, "b": 0}, []

    @retrying_deadlocks
    @transaction.atomic
    def add_one(name, first, second):
        runs[name] += 1
        if runs[name] > 1:
            # The victim's second run waits for the survivor's commit. Run at
            # once, it may lock its first row again before the survivor, woken
            # by the abort, takes it (PostgreSQL does not hand a row lock to
            # its waiter): a second deadlock, whose victim is either one.
            assert one_committed.wait(timeout=60)
        DocumentFrequency.objects.filter(term=first).update(documents=F("documents") + 1)
        if runs[name] == 1:
            both_hold_one.wait()  # each holds its first row and now asks for the other's
        DocumentFrequency.objects.filter(term=second).update(documents=F("documents") + 1)

    def worker(name, first, second):
        try:
            add_one(name, first, second)
            one_committed.set()
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=("a", "north", "south")),
        threading.Thread(target=worker, args=("b", "south", "north")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=150)
    assert errors == []
    assert sorted(runs.values()) == [1, 2]  # one victim, run twice
    assert counted_documents() == {"north": 2, "south": 2}


def related_state():
    """Links, stories (as groups), copies and frequencies, independent of row ids."""
    articles = {article.pk: article.title + article.body_text[-40:] for article in Article.objects.all()}
    links = sorted(
        (articles[link.from_article_id], articles[link.to_article_id], link.score)
        for link in RelatedLink.objects.all()
    )
    groups = {}
    for pk, story_id in Article.objects.values_list("pk", "story_id"):
        groups.setdefault(story_id, set()).add(articles[pk])
    copies = sorted(
        articles[pk] for pk in Article.objects.filter(copy_of__isnull=False).values_list("pk", flat=True)
    )
    stories = sorted(tuple(sorted(group)) for group in groups.values())
    terms = ArticleTerm.objects.count()
    return links, stories, copies, counted_documents(), terms, Story.objects.count()


def quake_coverage():
    """Two events, several outlets, a wire copy, an edited copy and unrelated news."""
    now = timezone.now()
    articles = [make_quake(event, n) for event in EVENTS for n in range(4)]
    original = articles[0]
    articles.append(make_article(
        title="Quake kills 23 in Aceh (wire)", body_text=original.body_text.replace(". ", ".  "),
        published_at=now - timedelta(minutes=50),
    ))
    articles.append(make_article(
        title=original.title, body_text=original.body_text + " Editing by Jane Doe.",
        published_at=now - timedelta(minutes=40),
    ))
    articles.extend(
        make_article(title=f"Unrelated news {n}", body_text=FILLERS[n],
                     published_at=now - timedelta(hours=8, minutes=n))
        for n in range(4)
    )
    return sorted(articles, key=lambda article: (article.published_at, article.pk))


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [3, 20])
def test_a_batch_related_together_ends_as_one_at_a_time(batch):
    """relate_articles leaves the same links, stories, copies, index and frequencies
    as relate_article on each article in date order, whether the batch holds every
    article or they come in several batches."""
    from articles.related import relate_articles

    articles = quake_coverage()
    relate_all(articles)
    one_at_a_time = related_state()
    assert one_at_a_time[2]  # the copies were found
    Article.objects.update(story=None, copy_of=None, terms={}, is_story_lead=False)
    RelatedLink.objects.all().delete()
    ArticleTerm.objects.all().delete()
    DocumentFrequency.objects.all().delete()
    Story.objects.all().delete()
    ids = [article.pk for article in articles]
    for start in range(0, len(ids), batch):
        relate_articles(ids[start : start + batch])
    assert related_state() == one_at_a_time


@pytest.mark.django_db
def test_a_batch_related_again_changes_nothing():
    """A redelivered task relates its batch again: nothing is counted or indexed twice,
    the copies stay copies, and every article keeps a story and its links."""
    from articles.related import relate_articles

    ids = [article.pk for article in quake_coverage()]
    relate_articles(ids)
    links, stories, *counts = related_state()
    relate_articles(ids)
    links_again, stories_again, *counts_again = related_state()
    assert counts_again == counts
    assert len(links_again) == len(links) and len(stories_again) == len(stories)
    assert not Article.objects.filter(story__isnull=True).exists()


@pytest.mark.django_db
def test_a_batch_is_related_in_a_constant_number_of_statements(django_assert_max_num_queries):
    """One read of the frequencies, one candidate search, one write of links and stories:
    the statements do not grow with the batch."""
    from articles.related import relate_articles

    articles = quake_coverage()
    relate_all(articles[:4])
    with django_assert_max_num_queries(24):  # one at a time: about 15 an article
        relate_articles([article.pk for article in articles[4:]])
