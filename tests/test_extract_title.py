"""Choosing a page's headline among its <h1>, JSON-LD, og:, twitter: and <title>."""

from articles.extract_page_facts import (
    PageFacts,
    choose_title,
    read_page_facts,
    undecorate,
)

LONG = "Storm hits the east coast overnight - what we know so far"


def test_twitter_title_is_read_apart_from_og_title():
    facts = read_page_facts(
        '<html><head><meta property="og:title" content="Storm hits the coast">'
        '<meta name="twitter:title" content="Storm hits the coast | Daily Paper">'
        "</head><body><p>Text</p></body></html>"
    )
    assert facts.og_title == "Storm hits the coast"
    assert facts.twitter_title == "Storm hits the coast | Daily Paper"


def test_a_tail_the_headline_itself_goes_on_with_is_not_a_site_name():
    cut = "Storm hits the east coast overnight - what we know"
    assert undecorate(cut, "", [LONG, ""]) == cut
    assert undecorate(cut, "", ["Storm hits the east coast overnight", ""]) == (
        "Storm hits the east coast overnight"
    )
    # A decoration that the headline does not go on with is still dropped.
    assert undecorate(f"{LONG} | Daily Paper", "Daily Paper", [LONG, LONG]) == LONG


def test_twitter_title_only_stands_in_for_a_missing_og_title():
    """og:title and twitter:title are one voice: together they outvote nothing."""
    facts = PageFacts(
        headings=["Council approves the bridge"],
        headline="Council approves the bridge",
        og_title="Bridge vote: what it means for you",
        twitter_title="Bridge vote: what it means for you",
        title_tag="Bridge vote: what it means for you | Town Crier",
    )
    assert choose_title(facts) == "Council approves the bridge"
    lone = PageFacts(twitter_title="Council approves the bridge | Town Crier")
    assert choose_title(lone) == "Council approves the bridge"
