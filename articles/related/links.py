"""Related links: the best neighbours of each article, kept up to date both ways."""

from django.db import transaction

from ..models import RelatedLink
from .deadlocks import retrying_deadlocks
from .index import WINDOW

TOP_K = 6
MIN_SCORE = 0.12
# A link much weaker than the article's best one is most often the same
# kind of event somewhere else.
RELATIVE_MIN_SCORE = 0.7
SAME_SOURCE_FACTOR = 0.85
# The story, judged on all its members, is more evidence of one event than
# a single cosine: a neighbour in another story ranks lower.
OTHER_STORY_FACTOR = 0.8
STALE_FACTOR = 0.15


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
