import json
from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Story
from articles.related import relate_article
from articles.related.additions import SAID_ELSEWHERE, additions_of, refresh_stale_additions
from articles.summary import split_sentences, words_of
from articles.tasks import refresh_story_additions_task
from tests.corpus import corpus_path
from tests.factories import make_article, make_source, make_story

SHARED = "Storm Corran pushed the river Lune over its banks in Marrowby on Tuesday night."


def test_each_source_adds_only_what_no_other_source_says():
    herald = SHARED + "\nMayor Ilse Varga opened three shelters at the Marrowby school on Quay Street."
    times = (
        SHARED.replace("pushed", "drove")
        + "\nInsurers put the damage at 40 million pounds, the Northgate Times learned."
        + "\nMayor Ilse Varga opened three shelters at the Marrowby school on Quay Street."
    )
    courier = SHARED
    added = additions_of([(1, 10, herald), (2, 20, times), (3, 30, courier)])
    assert added == {2: ["Insurers put the damage at 40 million pounds, the Northgate Times learned."]}


def test_a_source_s_own_follow_up_does_not_cancel_what_it_adds():
    fact = "Engineers from Keswick found two cracks in the Lune bridge on Wednesday."
    added = additions_of([(1, 10, SHARED + "\n" + fact), (2, 10, fact), (3, 20, SHARED)])
    assert added[1] == [fact] and added[2] == [fact]


@pytest.mark.django_db
def test_relating_marks_the_story_stale_and_the_task_computes_it_once():
    herald, times = make_source(name="Harbour Herald"), make_source(name="Northgate Times")
    body = "\n".join([SHARED] * 2)
    first = make_article(source=herald, body_text=body + "\nMayor Ilse Varga opened 3 shelters in Marrowby.")
    second = make_article(
        source=times,
        body_text=body + "\nInsurers put the damage at 40 million pounds, the council said.",
        published_at=first.published_at + timedelta(hours=1),
    )
    story = make_story(first, second)
    assert Story.objects.get(pk=story.pk).additions_stale
    assert refresh_story_additions_task() == "1 stories"
    story.refresh_from_db()
    assert not story.additions_stale
    assert [entry["source"] for entry in story.additions["sources"]] == ["Harbour Herald", "Northgate Times"]
    assert [entry["article"] for entry in story.additions["timeline"]] == [first.pk, second.pk]
    assert refresh_stale_additions() == 0, "nothing changed: nothing computed"
    relate_article(second.pk)  # the story is touched again
    assert Story.objects.filter(pk=second.refresh_from_db() or second.story_id, additions_stale=True).exists()


@pytest.mark.django_db
def test_story_page_shows_what_each_adds_and_the_timeline_without_computing(
    client, django_assert_num_queries
):
    herald, times = make_source(name="Harbour Herald"), make_source(name="Northgate Times")
    first = make_article(
        source=herald, title="Lune floods Marrowby",
        body_text=SHARED + "\nMayor Ilse Varga opened 3 shelters at the Marrowby school.",
        published_at=timezone.now() - timedelta(hours=3),
    )
    second = make_article(
        source=times, title="Damage counted in Marrowby",
        body_text=SHARED + "\nInsurers put the damage at 40 million pounds, the council said.",
        published_at=timezone.now() - timedelta(hours=1),
    )
    story = make_story(first, second)
    refresh_stale_additions()
    # story, coverage, navigation: no member's text is read
    with django_assert_num_queries(3):
        html = client.get(story.get_absolute_url()).content.decode()
    assert "What each source adds" in html
    assert "Harbour Herald</a> adds:" in html and "Mayor Ilse Varga opened 3 shelters" in html
    assert "Northgate Times</a> adds:" in html and "40 million pounds" in html
    timeline = html[html.index("Timeline"):]
    assert timeline.index("First report:") < timeline.index("Lune floods Marrowby") < timeline.index("Damage counted")
    article_html = client.get(first.get_absolute_url()).content.decode()
    assert f'{story.get_absolute_url()}#additions">what each adds</a>' in article_html
    assert "Covered by 2 sources" in article_html


def ecbplus_event(min_documents=4):
    path = corpus_path("related", "ecbplus", "ecbplus_docs.jsonl")
    events = defaultdict(list)
    for line in path.read_text().splitlines():
        document = json.loads(line)
        events[document["event_cluster"]].append(document)
    name = min(
        (name for name, documents in events.items() if len(documents) >= min_documents),
        key=str,
    )
    return events[name][:6]


@pytest.mark.django_db
def test_on_an_ecbplus_event_each_addition_is_its_own_and_unsaid_elsewhere():
    documents = ecbplus_event()
    articles = [
        make_article(
            source=make_source(name=f"Outlet {n}"), title=document["title"] or f"Report {n}",
            body_text=document["text"], published_at=timezone.now() - timedelta(hours=10 - n),
        )
        for n, document in enumerate(documents)
    ]
    story = make_story(*articles)
    refresh_stale_additions()
    story.refresh_from_db()
    sources = story.additions["sources"]
    assert len(sources) >= 2, "several outlets add something"
    texts = {article.pk: article.body_text for article in articles}
    for entry in sources:
        assert 1 <= len(entry["sentences"]) <= 2
        others = [
            words_of(sentence)
            for pk, text in texts.items() if pk != entry["article"]
            for sentence in split_sentences(text)
        ]
        for sentence in entry["sentences"]:
            assert sentence in texts[entry["article"]]
            words = words_of(sentence)
            assert all(len(words & other) / len(words) < SAID_ELSEWHERE for other in others)
    assert len(story.additions["timeline"]) == len(articles)
