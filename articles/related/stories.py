"""Stories: articles of several sources on one event, joined by their centroid."""

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When, Window
from django.db.models.functions import RowNumber

from ..models import Article, Story
from .deadlocks import retrying_deadlocks
from .vectors import add_vector, centroid_similarity

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
# makes an event's own names common, same-event cosines drop and the event's
# outliers would otherwise stay alone (bench/NOTES-related.md).
STORY_SINGLE_LINKAGE = 0.2


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


def plan_stories(article, candidates, read_members=story_members):
    """The article's story (None: a new one) and {neighbour id: story id} moves.

    The article joins the story whose centroid is close enough; joining on the
    single nearest neighbour would chain two events of the same kind together.
    Then its closest neighbours, and any nearby article alone in its story,
    may move to a story that fits them better now. `read_members` is
    story_members, or a batch's own view of the stories as it changes them.
    """
    nearby = [
        candidate
        for candidate in candidates
        if candidate.story_id and candidate.similarity >= STORY_MIN_SCORE
    ]
    story_ids = {candidate.story_id for candidate in nearby}
    if article.story_id:
        story_ids.add(article.story_id)
    members = read_members(story_ids)
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


def refresh_stories(story_ids):
    """Counts, dates and lead of each story; stories left without articles go.

    Three statements, whatever the number of stories: this runs for every new
    article, and the ORM form (aggregate, window, bulk update) took five and
    more CPU to build them. Plain SQL that PostgreSQL and SQLite both read.
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
            f"UPDATE {story} SET additions_stale = %s,"
            f" article_count = (SELECT COUNT(*) {members}),"
            f" source_count = (SELECT COUNT(DISTINCT a.source_id) {members}),"
            f" first_published_at = (SELECT MIN(a.published_at) {members}),"
            f" updated_at = (SELECT MAX(a.published_at) {members}),"
            # The lead is the longest original text: the fullest account of the event.
            f" lead_article_id = (SELECT a.id {members} ORDER BY"
            " CASE WHEN a.copy_of_id IS NULL THEN 0 ELSE 1 END, a.word_count DESC,"
            " a.published_at, a.id LIMIT 1)"
            f" WHERE id IN ({ids}) AND EXISTS (SELECT 1 {members})",
            [True] + visible * 5 + story_ids + visible,
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
