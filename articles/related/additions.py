"""What each source adds to a story, and its timeline: computed once per changed story, offline.

Relating only marks a story stale (refresh_stories); a scheduled task works
through the stale stories in batches, so relating an article never pays for
comparing every member's sentences.
"""

import re

from ..models import Article, Story
from ..summary import split_sentences, words_of

ADDS_PER_SOURCE = 2
# A sentence is said by another member when this share of its content words
# is in one of that member's sentences.
SAID_ELSEWHERE = 0.5
# A sentence naming nothing no other source names (a name, a figure) rarely adds a fact.
MIN_FACTS = 1
BATCH = 50
MAX_MEMBERS = 30
FACT = re.compile(r"(?<=\s)[A-ZÀ-Ý][\w’'-]+|\d[\d,.:%]*")


def unsaid_sentences(own, others):
    """`own`'s sentences whose words no sentence of `others` mostly holds, in reading order.

    `own` is a list of sentences, `others` a list of (words) sets; each
    sentence is compared only with the others' sentences that share a word
    with it (an inverted index), not with all of them.
    """
    postings = {}
    for index, words in enumerate(others):
        for word in words:
            postings.setdefault(word, []).append(index)
    unsaid = []
    for sentence in own:
        words = words_of(sentence)
        if not words:
            continue
        shared = {}
        for word in words:
            for index in postings.get(word, ()):
                shared[index] = shared.get(index, 0) + 1
        if max(shared.values(), default=0) / len(words) < SAID_ELSEWHERE:
            unsaid.append(sentence)
    return unsaid


def facts_of(sentence):
    """Its names and figures (a sentence's first word is capitalised anyway), lowercased."""
    facts = (fact.lower().rstrip(".,:") for fact in FACT.findall(sentence))
    return {re.sub(r"['’]s?$", "", fact) for fact in facts}


def additions_of(members):
    """{article id: up to ADDS_PER_SOURCE sentences no other member says}.

    `members` are (article id, source id, text) of one story's originals;
    members of the same source are not compared with each other, so a
    source's follow-up does not cancel what it adds. Of the sentences no
    other source says, those naming what no other source names (a person,
    a place, a figure) come first: each outlet retells the event's core in
    its own words, and a retelling adds nothing.
    """
    sentences = {pk: split_sentences(text) for pk, _, text in members}
    bags = {pk: [words_of(sentence) for sentence in sentences[pk]] for pk in sentences}
    vocabulary = {pk: set().union(*bags[pk], *map(facts_of, sentences[pk])) for pk in sentences}
    added = {}
    for pk, source_id, _ in members:
        other_members = [other for other, other_source, _ in members if other_source != source_id]
        others = [words for other in other_members for words in bags[other]]
        named_elsewhere = set().union(*(vocabulary[other] for other in other_members))
        unsaid = unsaid_sentences(sentences[pk], others)
        novel, shared = {}, {}
        for sentence in unsaid:
            facts = facts_of(sentence)
            novel[sentence] = len(facts - named_elsewhere)
            shared[sentence] = len(facts & named_elsewhere)
        # New names and figures, and few of the story's shared ones: a
        # retelling of the event names what everyone names.
        best = sorted(
            (s for s in unsaid if novel[s] >= MIN_FACTS),
            key=lambda s: (-novel[s] / (1 + shared[s]), -novel[s]),
        )[:ADDS_PER_SOURCE]
        if best:
            added[pk] = [sentence for sentence in unsaid if sentence in best]
    return added


def story_additions(story_id):
    """The story's stored form: members, per-source additions and timeline (one query)."""
    rows = list(
        Article.objects.visible()
        .filter(story_id=story_id, copy_of__isnull=True)
        .order_by("published_at", "pk")
        .values_list("pk", "source_id", "source__name", "title", "slug", "published_at", "body_text")[
            :MAX_MEMBERS
        ]
    )
    added = additions_of([(pk, source_id, text) for pk, source_id, _, _, _, _, text in rows])
    sources = []
    seen_sources = set()
    for pk, source_id, source_name, title, slug, _, _ in rows:
        if pk in added and source_id not in seen_sources:
            seen_sources.add(source_id)
            sources.append(
                {"article": pk, "source": source_name, "slug": slug, "title": title, "sentences": added[pk]}
            )
    timeline = [
        {"article": pk, "source": source_name, "slug": slug, "title": title, "published_at": published.isoformat()}
        for pk, _, source_name, title, slug, published, _ in rows
    ]
    return {"members": [row[0] for row in rows], "sources": sources, "timeline": timeline}


def refresh_stale_additions(limit=BATCH):
    """Compute the additions of up to `limit` stories marked stale; returns how many."""
    # A story of one source has nothing to compare: cleared in one statement.
    Story.objects.filter(additions_stale=True, source_count__lt=2).update(
        additions={}, additions_stale=False
    )
    stale = Story.objects.filter(additions_stale=True).order_by("pk")
    story_ids = list(stale.values_list("pk", flat=True)[:limit])
    for story_id in story_ids:
        # Marked fresh before it is read: a member that comes meanwhile marks
        # it stale again, and the next run computes it again.
        Story.objects.filter(pk=story_id).update(additions_stale=False)
        Story.objects.filter(pk=story_id).update(additions=story_additions(story_id))
    return len(story_ids)
