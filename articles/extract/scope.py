"""Which parts of the page are the article: its split pieces, not its neighbours.

Many pages cut the body into sibling containers of one class, with ads or
embeds between them; the extractor often keeps only the first piece. Others
list more posts after the article, each its own <article>, and the
extractor takes them along.
"""

import re
from collections import Counter

from trafilatura import bare_extraction
from trafilatura.xml import xmltotxt

from .facts import normal, squash

TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": True, "include_links": False}
# trafilatura's default favours precision and on some pages keeps only a part
# of the article (a guide built of <div>s, a page of short sections). Its
# recall mode is asked when the text is under this share of the page's words
# outside links and taken when it finds this much more.
RECALL_SHARE = 0.75
RECALL_GAIN = 1.4

TEXT_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote")
ASIDE_TAGS = {"aside", "footer", "nav", "form"}
MIN_CHARS = 40
COVERED_SHARE = 0.5
SHINGLE = 4
MIN_OTHER_POSTS = 2


# A line break in a paragraph's source is a space on screen (white-space:
# normal); trafilatura keeps it, and a sentence wrapped in the source comes
# out as two lines. One before a lower-case letter is such a wrap. <br>
# (trafilatura's <lb/>) and code keep theirs.
SOURCE_BREAK = re.compile(r"\s*\n\s*(.?)", re.S)


def joined(match):
    """A source line break as a space before a lower-case letter, else as a line break."""
    following = match.group(1)
    return (" " if following.islower() else "\n") + following


def render_text(body):
    """The text of trafilatura's body (changed in place), the source's wrapped sentences joined."""
    in_code = {inner for code in body.iter("code") for inner in code.iter()}
    for element in body.iter():
        if element.text and element not in in_code:
            element.text = SOURCE_BREAK.sub(joined, element.text)
        if element.tail and element.getparent() not in in_code:
            element.tail = SOURCE_BREAK.sub(joined, element.tail)
    return xmltotxt(body, include_formatting=False)


def shingles(text):
    words = text.split()
    starts = range(max(1, len(words) - SHINGLE + 1))
    return Counter(tuple(words[i : i + SHINGLE]) for i in starts)


def covered(text, known, share=COVERED_SHARE):
    """Whether most of text's word windows are already in known."""
    own = shingles(text)
    found = sum(min(count, known[key]) for key, count in own.items())
    return found >= share * sum(own.values())


def is_aside(element):
    """Inside furniture or comments, which share the body's classes on some sites."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ASIDE_TAGS:
            return True
        names = f"{ancestor.get('class', '')} {ancestor.get('id', '')}".lower()
        if "comment" in names:
            return True
    return False


def add_split_pieces(tree, lines):
    """The lines with the paragraphs of the body's missing pieces put back.

    A piece is an element with the tag and class of a container that holds
    extracted paragraphs, found after the first such container: a teaser
    box before the article does not count. Its paragraphs go after the last
    extracted line that precedes it on the page.
    """
    if tree is None or not lines:
        return lines
    where = {squash(line): number for number, line in enumerate(lines)}
    anchors = {}
    for paragraph in tree.iter("p"):
        number = where.get(squash(paragraph.text_content()))
        parent = paragraph.getparent()
        if number is not None and parent is not None and parent.get("class"):
            anchors[parent] = max(number, anchors.get(parent, -1))
    kinds = {(element.tag, element.get("class")) for element in anchors}
    if not kinds:
        return lines
    known = None
    inserts, last = {}, None
    for element in tree.iter():
        if element in anchors:
            last = max(anchors[element], last if last is not None else -1)
        elif (
            last is not None
            and (element.tag, element.get("class")) in kinds
            and not is_aside(element)
        ):
            for paragraph in element.iterchildren("p"):
                text = squash(paragraph.text_content())
                if len(text) < MIN_CHARS or text in where:
                    continue
                known = known or shingles(" ".join(lines))
                if not covered(text, known):
                    inserts.setdefault(last, []).append(text)
    return with_inserts(lines, inserts)


def with_inserts(lines, inserts):
    """The lines with inserts[n], a list of texts, put after line n."""
    if not any(inserts.values()):
        return lines
    merged = []
    for number, line in enumerate(lines):
        merged.append(line)
        merged.extend(inserts.get(number, []))
    return merged


def drop_other_articles(tree, lines, title):
    """The lines without those that come from another <article> than the headline's.

    Only when the headline's own <article> holds some of the text: a page
    may put just its header in an <article>.
    """
    if tree is None or not title or len(tree.xpath("//article")) < 2:
        return lines
    key = normal(title)
    home = next(
        (
            article
            for heading in tree.iter("h1")
            if normal(heading.text_content()) == key
            for article in heading.iterancestors("article")
        ),
        None,
    )
    if home is None:
        return lines
    around = {home, *home.iterancestors("article")}
    where = {squash(line): number for number, line in enumerate(lines)}
    ours, theirs, others = False, set(), set()
    for block in tree.iter(*TEXT_BLOCKS):
        number = where.get(squash(block.text_content()))
        if number is None:
            continue
        article = next(block.iterancestors("article"), None)
        if article is home:
            ours = True
        elif article is not None and article not in around:
            theirs.add(number)
            others.add(article)
    # Listed posts come several: one other <article> is part of this page
    # (a recipe's steps under the headline's summary).
    if not ours or len(others) < MIN_OTHER_POSTS:
        return lines
    return [line for number, line in enumerate(lines) if number not in theirs]


def page_words(tree):
    """The number of words the page's <body> shows outside links.

    Scripts and styles are left out, and so are links: menus and lists of
    other stories are most of a news page's words, never its article.
    """
    body = tree.find("body")
    if body is None:
        return 0
    words = len(body.text_content().split())
    for element in body.iter("script", "style", "noscript"):
        words -= len((element.text or "").split())
    for link in body.iter("a"):
        words -= len(link.text_content().split())
    return words


def fuller_text(tree, text):
    """The text, or trafilatura's recall-mode text when the default kept a small part."""
    words = len(text.split())
    if words >= RECALL_SHARE * page_words(tree):
        return text
    document = bare_extraction(
        tree, fast=True, with_metadata=False, favor_recall=True, **TRAFILATURA_OPTIONS
    )
    if document is None or document.body is None:
        return text
    fuller = render_text(document.body)
    # Counted once per distinct line: a gallery repeats its captions.
    fuller_words = sum(len(line.split()) for line in set(fuller.splitlines()))
    return fuller if fuller_words >= RECALL_GAIN * max(words, 1) else text
