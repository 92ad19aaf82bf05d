import pytest
from django.urls import reverse

from articles.extract.terms import header_terms, parse_directives
from articles import moderation
from articles.models import Article, Source
from articles.pipeline import extract_and_relate_article
from articles.terms import effective_policy
from tests.factories import make_article, make_source

PARAGRAPHS = [
    "The harbour bridge in Marrowby reopened on Monday after eight months of repairs that cost the city 14 million pounds.",
    "Engineers from Keswick replaced the two central spans and strengthened the piers against the winter floods.",
    "Mayor Ilse Varga cut the ribbon and thanked the crews who worked through the storms of January and February.",
    "Traffic was heavy all morning as commuters returned to the route they had missed since the spring closure.",
    "The council said the toll will stay free until the end of the year while a study of traffic is completed.",
    "Shop owners on Quay Street said trade had fallen by a third during the works and hoped for a quick recovery.",
    "Bus operators restored the three routes across the river, adding early services for hospital staff.",
    "Cyclists welcomed the new protected lane, though some said the ramps at both ends were too steep.",
    "The repairs were paid for by a government grant of 9 million pounds and 5 million from the city budget.",
    "A ceremony for the workers who built the original bridge in 1926 is planned for the summer.",
]
SECRET = "Subscribers read the full interview with the chief engineer in tomorrow's print edition only."


def page(head="", secret=False):
    body = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    if secret:
        body = body.replace("</p><p>Mayor", f"</p><p data-nosnippet>{SECRET}</p><p>Mayor", 1)
    return (
        f"<html lang='en'><head><title>Bridge reopens</title>{head}</head><body><article>"
        f"<h1>Bridge reopens</h1>{body}</article></body></html>"
    )


def extracted(local_server, path, html, **headers):
    url = local_server.add(path, html, **headers)
    article = make_article(url=url, guid=url, canonical_url=url, state=Article.State.PENDING, summary="")
    extract_and_relate_article(article.pk)
    return Article.objects.select_related("source").get(pk=article.pk)


def test_robots_values_are_read_for_every_crawler_but_not_for_a_named_one():
    assert parse_directives("noindex, NoSnippet", "meta robots") == {"nosnippet": True, "from": ["meta robots"]}
    assert parse_directives("max-snippet:50, max-image-preview:large", "meta robots")["max_snippet"] == 50
    assert parse_directives("max-snippet:-1", "meta robots") == {}
    assert parse_directives("max-snippet:0", "meta robots")["nosnippet"]
    assert parse_directives("noindex, nofollow", "meta robots") == {}
    assert header_terms("googlebot: nosnippet") == {}
    assert header_terms("noarchive") == {"noarchive": True, "from": ["X-Robots-Tag"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "head, headers, reason",
    [
        ('<meta name="robots" content="nosnippet">', {}, "nosnippet (meta robots)"),
        ('<meta name="ROBOTS" content="noarchive, follow">', {}, "noarchive (meta robots)"),
        ("", {"X_Robots_Tag": "noarchive"}, "noarchive (X-Robots-Tag)"),
    ],
)
def test_nosnippet_or_noarchive_shows_the_headline_and_link_only(
    local_server, client, head, headers, reason
):
    article = extracted(local_server, "/story.html", page(head), **headers)
    assert article.state == Article.State.READY
    policy = effective_policy(article)
    assert policy.name == "headline" and reason in policy.reason
    html = client.get(article.get_absolute_url()).content.decode()
    assert article.title in html and "Read the original" in html
    assert "Engineers from Keswick" not in html and "Key points" not in html
    assert "The headline only, as the publisher asks" in html
    # The full text still feeds relating and search.
    assert "Engineers from Keswick" in article.body_text and article.story_id


@pytest.mark.django_db
def test_max_snippet_cuts_every_excerpt_key_point_and_search_snippet(local_server, client):
    article = extracted(local_server, "/short.html", page('<meta name="robots" content="max-snippet:40">'))
    policy = effective_policy(article)
    assert (policy.name, policy.limit) == ("excerpt", 40)
    assert article.excerpt and len(article.excerpt) <= 40
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert "An excerpt only, as the publisher asks" in html
    assert "Engineers from Keswick replaced the two central spans" not in html
    assert response.context["key_points"]
    for point in response.context["key_points"]:
        assert len(point) <= 40
    response = client.get(reverse("articles:search"), {"q": "bridge"})
    results = response.context["object_list"]
    assert results
    for result in results:
        assert len(result.snippet_html.replace("<mark>", "").replace("</mark>", "")) <= 40
    # The cut snippet is still HTML: its marks show as marks, not as text.
    html = response.content.decode()
    assert "<mark>" in html and "&lt;mark&gt;" not in html


@pytest.mark.django_db
def test_data_nosnippet_passages_are_never_shown_but_still_read(local_server, client):
    article = extracted(local_server, "/secret.html", page(secret=True))
    assert effective_policy(article).name == "full"
    assert SECRET in article.page_terms["hidden"]
    assert SECRET in article.body_text
    assert "print edition" not in article.body_html and "print edition" not in article.summary
    assert all("print edition" not in point for point in article.key_points)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Mayor Ilse Varga cut the ribbon" in html and "print edition" not in html


@pytest.mark.django_db
def test_the_source_policy_applies_and_its_default_comes_from_the_setting(client, settings):
    settings.DISPLAY_POLICY_DEFAULT = "excerpt"
    source = make_source()
    assert source.display_policy == "excerpt"
    article = make_article(source=source, summary="A short standfirst.", body_html="<p>Whole body text here.</p>")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "A short standfirst." in html and "Whole body text here." not in html
    Source.objects.filter(pk=source.pk).update(display_policy="headline")
    moderation.source_edited(source)  # as the admin's save does
    article = Article.objects.select_related("source").get(pk=article.pk)
    assert article.excerpt == ""
    html = client.get(article.get_absolute_url()).content.decode()
    assert "A short standfirst." not in html.split("<body")[1]


@pytest.mark.django_db
def test_admin_shows_each_article_s_effective_policy_and_why(admin_client):
    source = make_source(display_policy="excerpt")
    article = make_article(source=source, page_terms={"nosnippet": True, "from": ["X-Robots-Tag"]})
    plain = make_article(source=source)
    html = admin_client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "Headline with link. Why: The page says nosnippet (X-Robots-Tag)." in html
    html = admin_client.get(reverse("admin:articles_article_change", args=[plain.pk])).content.decode()
    assert "Excerpt with link. Why: The source&#x27;s display policy: excerpt with link." in html
    changelist = admin_client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "headline" in changelist and "excerpt" in changelist
    source_page = admin_client.get(reverse("admin:articles_source_change", args=[source.pk])).content.decode()
    assert 'name="display_policy"' in source_page
