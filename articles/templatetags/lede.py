import json
from datetime import timezone as dt_timezone
from html import escape as html_escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dates import MONTHS
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe

from .. import menus, when
from ..models import Category
from ..paths import fixed_path, static_path

register = template.Library()

# The escapes json_script uses, so a "</script>" in a title cannot close the block.
SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def article_json_ld(context, article):
    """schema.org NewsArticle for search engines (a data block; CSP does not run it)."""
    request = context["request"]
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title[:110],
        "datePublished": article.published_at,
        "url": request.build_absolute_uri(article.get_absolute_url()),
        "isBasedOn": article.canonical_url,
        "publisher": {"@type": "Organization", "name": article.source.name},
        "description": article.excerpt,
    }
    if article.extracted_at:
        data["dateModified"] = article.extracted_at
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author}
    if article.image_lead:
        data["image"] = [absolute(article.image_lead.url, request)]
    payload = json.dumps(data, cls=DjangoJSONEncoder).translate(SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))


@register.simple_tag
def path(name):
    """{% url name %} for a route without arguments, reversed once (articles/paths.py)."""
    return fixed_path(name)


@register.simple_tag
def asset(path):
    """{% static path %} for the files every page links (articles/paths.py)."""
    return static_path(path)


@register.filter
def absolute(url, request):
    """`url` as an absolute address: a stored file's URL is a path on local disk."""
    return url if url.startswith(("https://", "http://")) else request.build_absolute_uri(url)


@register.filter
def placed(messages, place):
    """The messages meant for `place` (their extra tag; "" for the top of the page).

    A comment's outcome shows beside the comments, where the page lands.
    """
    return [message for message in messages if message.extra_tags == place]


def options(choices, chosen):
    """<option>s of (slug, slug escaped, name escaped) choices, `chosen` selected.

    Written here, not looped in the template (60 sources took 2 ms there),
    and from names escaped once per menu version rather than by format_html
    per option: 0.4-0.5 ms less of a search page's Python (in process).
    """
    return mark_safe("".join(
        f'<option value="{slug_html}"{" selected" if slug == chosen else ""}>{name_html}</option>'
        for slug, slug_html, name_html in choices
    ))


@register.simple_tag
def source_options(chosen):
    """The search form's <option>s of every source, by name."""
    return options(menus.escaped_source_choices(), chosen)


@register.simple_tag
def category_options(chosen):
    """The search form's <option>s of every category, by name."""
    return options(menus.escaped_categories(), chosen)


ARIA_CURRENT = ' aria-current="page"'


@register.simple_tag
def nav_category_links(current):
    """The navigation's <li> links to its categories, `current`'s (a Category,
    or anything else on pages of no category) marked as the current page.

    Every page shows them: looped in the template with each path reversed,
    they took a third of base.html's render (bench/NOTES-pages.md).
    """
    current_pk = current.pk if isinstance(current, Category) else None
    return mark_safe("".join(
        f'<li><a href="{path_html}"{ARIA_CURRENT if pk == current_pk else ""}>{name_html}</a></li>'
        for pk, path_html, name_html in menus.escaped_nav_categories()
    ))


# A related card, as includes/related_card.html wrote it.
RELATED_CARD = (
    '<li class="related-card">\n  {thumb}\n  <div class="related-text">\n'
    '    <h4 class="related-title"><a href="{url}">{title}</a></h4>\n'
    '    <p class="meta">\n      <span class="related-source">{source}</span>\n      <span>{time}</span>\n    </p>\n'
    "    {excerpt}\n  </div>\n</li>"
)
RELATED_THUMB = (
    '<img class="related-thumb" src="{}" alt="" width="96" height="72" loading="lazy" decoding="async">'
)
NO_THUMB = '<span class="related-thumb related-thumb-empty" aria-hidden="true"></span>'


@register.simple_tag
def related_cards(articles):
    """The sidebar's cards, one <li> each.

    Written here, not included per card: an article page shows up to 14.
    The page's render took 3.77 ms with an include per card, 3.40 with
    format_html; escaped with html.escape (what Django's escape does for a
    str, without its checks for lazy strings) and with reltime's English
    month, a page's 14 cards take 0.83 ms, not 1.08.
    """
    english = when.speaks_english()
    return mark_safe("".join(
        RELATED_CARD.format(
            thumb=RELATED_THUMB.format(html_escape(article.image_thumb.url)) if article.image_thumb else NO_THUMB,
            url=html_escape(article.get_absolute_url()),
            title=html_escape(article.title),
            source=html_escape(article.source.name),
            time=relative_time(article.published_at, english),
            excerpt=f'<p class="related-excerpt">{html_escape(article.excerpt)}</p>' if article.excerpt else "",
        )
        for article in articles
    ))


# A search result, as the loop in articles/search.html wrote it.
SEARCH_RESULT = (
    '  <li class="search-result">\n'
    '    <p class="meta"><a class="source-label" href="{source_url}">{source}</a> · {time}</p>\n'
    '    <h2 class="card-title"><a href="{url}">{title}</a></h2>\n'
    '    <p class="card-excerpt">{snippet}</p>\n'
    "  </li>\n"
)


@register.simple_tag
def search_results(articles):
    """A search page's results, one <li> each, their snippets already HTML.

    Written here like the related cards: 0.15-0.36 ms less of a search
    page's 6 ms of Python than the template's loop over 20 results (in
    process, alternated three times; bench/NOTES-pages.md).
    """
    english = when.speaks_english()
    return mark_safe("".join(
        SEARCH_RESULT.format(
            source_url=html_escape(article.source.get_absolute_url()),
            source=html_escape(article.source.name),
            time=relative_time(article.published_at, english),
            url=html_escape(article.get_absolute_url()),
            title=html_escape(article.title),
            snippet=conditional_escape(article.snippet_html),
        )
        for article in articles
    ))


@register.simple_tag
def reltime(value):
    """`value` as "7 hours ago", its date and time in the tooltip and `datetime`.

    A tag, not an included template: a page shows up to 16 of them, and the
    include cost twice the formatting itself (0.18 against 0.09 ms each).
    Written without the date filter, which took 35 of the tag's 65 us, and
    its words without naturaltime's translation lookups (articles/when.py).
    """
    return relative_time(value, when.speaks_english())


def relative_time(value, english):
    """reltime's HTML, the active language's Englishness asked once for a list
    (2.8-4.6 us each time through translation's thread-local)."""
    value = value.astimezone(dt_timezone.utc)
    month = when.MONTHS[value.month] if english else MONTHS[value.month]
    title = f"{value.day} {month} {value.year}, {value:%H:%M}"
    return mark_safe(
        f'<time datetime="{value.isoformat()}" title="{escape(title)} UTC">'
        f"{escape(when.ago(value, english=english) or naturaltime(value))}</time>"
    )
