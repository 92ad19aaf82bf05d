"""Choosing a page's headline among its <h1>, JSON-LD, og:, twitter: and <title>."""

from articles.extract.facts import (
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


def page_with(head, h1):
    paragraphs = "".join(
        f"<p>Paragraph {number} says who came to the opening, what the mayor said "
        "and how long the work on the river bridge took in the end.</p>"
        for number in range(1, 7)
    )
    body = f"<article><h1>{h1}</h1>{paragraphs}</article>"
    return f"<html><head>{head}</head><body>{body}</body></html>"


def test_a_tighter_edit_that_two_signals_give_wins():
    """og:title and twitter:title, or JSON-LD and <title>, give a cut-down headline."""
    from articles.extract import extract_page

    long = "Mayor opens the new river bridge after two long years of work"
    short = "Mayor opens the river bridge after two years of work"
    social = (
        f'<meta property="og:title" content="{short}">'
        f'<meta name="twitter:title" content="{short}">'
        f"<title>{long} | Town Crier</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        f'"headline": "{long}"}}</script>'
    )
    assert extract_page(page_with(social, long)).title == short
    # One word may be swapped in the edit: "a" for "an ambitious".
    facts = PageFacts(
        headings=["Council backs an ambitious plan for the harbour front"],
        og_title="Council backs an ambitious plan for the harbour front",
        twitter_title="Council backs an ambitious plan for the harbour front",
        headline="Council backs a plan for the harbour front",
        title_tag="Council backs a plan for the harbour front | Town Crier",
    )
    assert choose_title(facts) == "Council backs a plan for the harbour front"


def test_lone_capped_rewritten_or_label_titles_are_not_edits():
    long = "Mayor opens the new river bridge after two long years of work"
    others = {
        "lone": ("Mayor opens the river bridge", ""),
        "capped": ("Mayor opens the new river bridge after...",) * 2,
        "rewritten": ("River bridge finally opens to traffic",) * 2,
        "label": ("River bridge",) * 2,
    }
    for og_title, twitter_title in others.values():
        facts = PageFacts(
            headings=[long],
            headline=long,
            og_title=og_title,
            twitter_title=twitter_title,
        )
        assert choose_title(facts) == long, og_title


def test_the_visible_headline_beats_one_seo_title_copied_into_every_tag():
    """og:title, twitter:title, JSON-LD and <title> filled from one field are one signal."""
    seo = "Bridge Opening 2025: Dates, Costs and Traffic"
    facts = PageFacts(
        headings=["The river bridge opens to traffic after two years"],
        headline=seo,
        og_title=seo,
        twitter_title=seo,
        title_tag=f"{seo} | Town Crier",
        site_name="Town Crier",
    )
    assert choose_title(facts) == "The river bridge opens to traffic after two years"
    # A heading that only spells one word otherwise is the same headline.
    facts.headings = ["The Bridge Opening 2025: Dates, Costs & Traffic"]
    assert choose_title(facts) == seo
    # A changed number is an update the metadata missed.
    facts.headings = ["Bridge Opening 2026: Dates, Costs and Traffic"]
    assert choose_title(facts) == "Bridge Opening 2026: Dates, Costs and Traffic"


def test_site_names_and_labels_in_h1_are_passed_over():
    facts = PageFacts(
        headings=["Town Crier", "Home", "Council approves the bridge | Town Crier"],
        og_title="Council approves the bridge",
        title_tag="Council approves the bridge | Town Crier",
        site_name="Town Crier",
    )
    assert choose_title(facts) == "Council approves the bridge"
    # A section name the <title> puts after its headline is cut from the <h1> too.
    opinion = PageFacts(
        headings=["Why the bridge matters | Opinion"],
        title_tag="The bridge and the town | Opinion",
    )
    assert choose_title(opinion) == "Why the bridge matters"


def test_a_sites_address_is_cut_from_a_short_title():
    from articles.extract.facts import strip_site_name

    assert strip_site_name("GAME CHANGER | Newegg.com") == "GAME CHANGER"
    assert strip_site_name("Bridge | Town") == "Bridge | Town"


def test_a_page_without_text_still_gives_its_headline():
    from articles.extract import extract_page

    page = (
        '<html><head><meta property="og:title" content="Council approves the bridge">'
        "</head><body><h1>Council approves the bridge</h1></body></html>"
    )
    extraction = extract_page(page)
    assert extraction.text == ""
    assert extraction.title == "Council approves the bridge"
