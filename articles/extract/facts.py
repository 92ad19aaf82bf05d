"""What a page says about itself: <title>, headings, OpenGraph and JSON-LD."""

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field

from trafilatura.utils import load_html

ARTICLE_TYPES = re.compile(r"(Article|Posting|Report)$")
# Separators between a headline and the site or section name in <title>.
TITLE_SEPARATOR = re.compile(r"\s+[|\-–—•·:»/]\s+|\s*[|｜：ㅣ]\s*|\s*--\s*")
BAR = re.compile(r"[|｜ㅣ]")
# "Newegg.com", "www.site.co.uk": a site's address ends a <title> however short its head.
DOMAIN = re.compile(r"^(www\.)?[\w-]+(\.[a-z]{2,6}){1,2}$", re.I)
MAX_SUFFIX_WORDS = 6
MAX_SUFFIX_CHARS = 45


@dataclass
class PageFacts:
    title_tag: str = ""
    og_title: str = ""
    twitter_title: str = ""
    site_name: str = ""
    headings: list = field(default_factory=list)
    headline: str = ""
    article_body: str = ""
    authors: list = field(default_factory=list)
    date_published: str = ""


def squash(text):
    return " ".join((text or "").split())


def normal(text):
    """Compare-friendly text: case, punctuation and quote styles do not count."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"\W+", " ", text).strip()


def read_page_facts(page):
    """The facts of a page's HTML (bytes, str or an already parsed tree)."""
    facts = PageFacts()
    tree = load_html(page)
    if tree is None:
        return facts
    titles = tree.xpath("//head/title/text() | //title/text()")
    facts.title_tag = squash(titles[0]) if titles else ""
    facts.og_title = squash(meta_content(tree, "og:title"))
    facts.twitter_title = squash(meta_content(tree, "twitter:title"))
    facts.site_name = squash(meta_content(tree, "og:site_name"))
    facts.headings = [squash(h1.text_content()) for h1 in tree.xpath("//body//h1")[:5]]
    facts.headings = [heading for heading in facts.headings if heading]
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        read_json_ld(script.text_content(), facts)
    return facts


def meta_content(tree, name):
    values = tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    return values[0] if values else ""


def walk_json_ld(node):
    if isinstance(node, list):
        for item in node:
            yield from walk_json_ld(item)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity"):
            if key in node:
                yield from walk_json_ld(node[key])


def read_json_ld(source, facts):
    try:
        data = json.loads(source, strict=False)
    except ValueError:
        return
    for node in walk_json_ld(data):
        kinds = node.get("@type", "")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(isinstance(kind, str) and ARTICLE_TYPES.search(kind) for kind in kinds):
            continue
        if not facts.headline and isinstance(node.get("headline"), str):
            # CMSs often write JSON-LD strings with HTML entities still in.
            facts.headline = squash(html.unescape(node["headline"]))
        body = node.get("articleBody")
        if isinstance(body, str) and len(body) > len(facts.article_body):
            facts.article_body = body
        if not facts.date_published and isinstance(node.get("datePublished"), str):
            facts.date_published = node["datePublished"].strip()
        if not facts.authors:
            facts.authors = author_names(node.get("author"))


def author_names(value):
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and squash(name):
            names.append(squash(name))
    return names


def strip_site_name(title, site_name=""):
    """Drop " | Site", " - Section | Site" and the like from the end of a <title>."""
    if site_name and normal(title).endswith(normal(site_name)) and normal(title) != normal(site_name):
        cut = len(title) - len(site_name)
        if title[cut:].casefold() == site_name.casefold():
            title = re.sub(r"[\s|\-–—•·:»/｜：ㅣ]+$", "", title[:cut])
    for _ in range(3):
        parts = list(TITLE_SEPARATOR.finditer(title))
        if not parts:
            break
        last = parts[-1]
        suffix, head = title[last.end() :], title[: last.start()]
        if DOMAIN.match(suffix) and head.strip():
            title = head
            continue
        if (
            not suffix
            or len(suffix.split()) > MAX_SUFFIX_WORDS
            or len(suffix) > MAX_SUFFIX_CHARS
            or len(head) < 2 * len(suffix)
            or len(head.split()) < 3 and len(head) < 15
        ):
            break
        title = head
    return title.strip()


def headline_keys(facts):
    """Every form of the headline the page gives, to drop its repeats in the text."""
    decorated = [facts.og_title, facts.twitter_title, facts.title_tag]
    forms = [facts.headline, *facts.headings[:1], *decorated]
    forms += [strip_site_name(raw, facts.site_name) for raw in decorated]
    return {normal(form) for form in forms} - {""}


def choose_title(facts, fallback=""):
    """The headline most of the page's own signals agree on.

    The visible <h1> (the first that reads as this page's headline: not the
    site's name, not a section label), JSON-LD headline, og:title (or
    twitter:title) and <title> (the last three without the site's name) are
    the candidates, the visible one first. When the metadata all give one
    headline that the <h1> does not, they are copies of one SEO field
    (CMSs fill all of them from it) and the <h1> the reader sees wins,
    unless it differs only by a word's spelling. Otherwise each signal votes
    for a candidate it equals or, for og:title and <title>, mostly consists
    of: "Section: X | Site" backs X however it is decorated. The most backed
    wins, earlier ones on ties; the <h1> still wins when it is a cut-down
    edit of the winner, and so does a tighter edit that two signals give.
    The fallback (trafilatura's, itself read from these tags) only fills in.
    """
    names = decoration_keys(facts)
    headline = cut_decoration(facts.headline, names)
    # og:title and twitter:title are mostly filled from one field: one vote.
    decorated = [facts.og_title or facts.twitter_title, facts.title_tag]
    metadata = [headline] + [undecorate(raw, facts.site_name, [headline]) for raw in decorated]
    heading = visible_heading(facts, metadata, names)
    plain = [heading, headline]
    candidates = plain + [undecorate(raw, facts.site_name, plain) for raw in decorated]
    keys = [normal(candidate) for candidate in candidates]
    raw_keys = [normal(raw) for raw in decorated]
    votes = [
        keys[:2].count(key) + sum(backs(raw, key) for raw in raw_keys) if key else 0
        for key in keys
    ]
    given = {key for key in keys[1:] if key}
    if (
        len(given) == 1
        and votes[0] == 1
        and not is_respelled(heading, candidates[keys.index(next(iter(given)))])
    ):
        return heading
    best = max(range(len(keys)), key=votes.__getitem__)  # the first on ties
    if not votes[best]:
        return strip_site_name(fallback, facts.site_name)
    if (
        best
        and heading
        and is_trimmed(heading, candidates[best])
        and not is_respelled(heading, candidates[best])
    ):
        return heading
    return tighter_edit(facts, candidates[best], plain) or candidates[best]


def decoration_keys(facts):
    """normal() keys of the site and section names the page puts around its headline.

    Read off og:title and <title>: what strip_site_name cuts from them. A
    part cut after " - " that the visible headline goes on with is headline
    ("Storm hits - what we know"); after a bar it is a name either way.
    """
    keys = {normal(facts.site_name)}
    visible = [normal(heading) for heading in facts.headings[:3]]
    for raw in (facts.title_tag, facts.og_title, facts.twitter_title):
        head = strip_site_name(raw, facts.site_name)
        if not head or not raw.startswith(head):
            continue
        in_heading = any(f" {normal(raw)} " in f" {heading} " for heading in visible)
        tail = raw[len(head) :]
        separators = list(TITLE_SEPARATOR.finditer(tail))
        for number, separator in enumerate(separators):
            end = separators[number + 1].start() if number + 1 < len(separators) else len(tail)
            if not in_heading or BAR.search(separator.group()):
                keys.add(normal(tail[separator.end() : end]))
    return keys - {""}


def cut_decoration(text, names):
    """text without the site and section names it ends with."""
    for _ in range(3):
        separators = list(TITLE_SEPARATOR.finditer(text))
        if not separators:
            break
        last = separators[-1]
        if normal(text[last.end() :]) not in names or not normal(text[: last.start()]):
            break
        text = text[: last.start()]
    return text.strip()


def visible_heading(facts, metadata, names):
    """The first <h1> that is this page's headline, without the site's name.

    One the metadata give or back comes first; else the first that shares a
    word with them and is neither much longer (a standfirst set in <h1>)
    nor much shorter (a label such as "VPN services" over a part of the
    page). Site names, and labels such as "Home", are not headlines.
    """
    headings = [cut_decoration(heading, names) for heading in facts.headings]
    headings = [heading for heading in headings if normal(heading) not in names | {""}]
    keys = [normal(text) for text in metadata if normal(text)]
    if not keys:
        return headings[0] if headings else ""
    raws = [normal(raw) for raw in (facts.og_title, facts.twitter_title, facts.title_tag)]
    for heading in headings:
        key = normal(heading)
        if key in keys or any(backs(raw, key) for raw in raws):
            return heading
    words = {word for key in keys for word in key.split() if len(word) > 2}
    lengths = [len(key.split()) for key in keys]
    for heading in headings:
        own = normal(heading).split()
        if words & set(own) and len(own) <= 2 * max(lengths):
            return heading
    return ""


def is_respelled(heading, other):
    """Whether two headlines differ by one word at most: "Joburg" for
    "Johannesburg", "The best" for "Best", "&" for "and". A changed number
    does count: a page updated "for 2025" often keeps "2024" in its metadata."""
    first, second = normal(heading).split(), normal(other).split()
    if max(len(first), len(second)) - common_words(first, second) > 1:
        return False
    return not any(char.isdigit() for word in set(first) ^ set(second) for char in word)


def tighter_edit(facts, headline, plain):
    """A cut-down edit of the headline that two of the page's signals give as is.

    Two signals, so that a lone length-capped or stray value cannot win;
    og:title and twitter:title count apart here, as each is set on purpose.
    """
    raws = [facts.og_title, facts.twitter_title, facts.title_tag]
    given = plain + [undecorate(raw, facts.site_name, plain) for raw in raws]
    keys = [normal(text) for text in given]
    edits = [
        text
        for text, key in zip(given, keys)
        if key and keys.count(key) >= 2 and is_trimmed(text, headline)
    ]
    return min(edits, key=lambda text: len(normal(text)), default="")


def undecorate(raw, site_name, plain):
    """A decorated title without the site's name, unless the headline goes on so.

    "Storm hits the east coast - what we know" ends like a section name, but
    when the <h1> or JSON-LD headline reads on the same way, it is headline.
    """
    raw_key = normal(raw)
    if raw_key and any(f" {raw_key} " in f" {normal(text)} " for text in plain):
        return raw
    return strip_site_name(raw, site_name)


def is_trimmed(short, long):
    """Whether a headline is another one cut down: fewer words, at most one new.

    Publishers often put a long headline on the page and a tighter edit of
    it in og:title or JSON-LD ("Mayor opens bridge" for "Mayor opens the new
    river bridge"); the tighter one reads better in a list. A trailing
    ellipsis marks a length-capped copy, and keeping under half the words
    a label ("Bridge"), not an edit.
    """
    short_words, long_words = normal(short).split(), normal(long).split()
    if short.rstrip().endswith(("...", "…")) or len(short_words) >= len(long_words):
        return False
    common = common_words(short_words, long_words)
    return len(short_words) - common <= 1 and 2 * common >= len(long_words)


def common_words(first, second):
    """The length of the longest common subsequence of two word lists."""
    row = [0] * (len(second) + 1)
    for word in first:
        previous = row[:]
        for index, other in enumerate(second, 1):
            if word == other:
                row[index] = previous[index - 1] + 1
            else:
                row[index] = max(row[index - 1], previous[index])
    return row[-1]


def backs(raw_key, key):
    """Whether a decorated title is this headline plus a shorter decoration."""
    if not raw_key:
        return False
    return f" {key} " in f" {raw_key} " and 2 * len(key) >= len(raw_key)
