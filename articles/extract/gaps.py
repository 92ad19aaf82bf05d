"""Blocks the extractor skipped between two lines it kept, put back.

When trafilatura finds no frame it trusts, it falls back to collecting the
page's paragraphs one by one, and that pass takes no headings or list items:
a guide loses every section heading and every list between its paragraphs.
Its link-density test also drops paragraphs of running text that name many
places or people as links. Such a block sits in the container of the line
that follows it, and the extractor skipped nothing else in that gap; a news
page's widgets ("Trending", "Related links", gallery captions) sit in boxes
of their own, hold a picture, or come among other skipped blocks.
"""

import re

from .clean import link_share
from .facts import squash
from .scope import covered, is_aside, shingles, with_inserts

GAP_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6")
OTHER_BLOCKS = ("blockquote", "pre", "td", "dd", "dt")
BLOCKS = GAP_BLOCKS + OTHER_BLOCKS
# Headings and list items are never linked prose; a paragraph may name
# several places or people as links (a list of towns, of sources).
MAX_LINK_SHARE = {"p": 0.9}
DEFAULT_LINK_SHARE = 0.5
# Longer text is checked for being already kept under another shape (a
# paragraph split at <br>).
COVERED_WORDS = 8
# How far above a heading or list item its container with the next kept
# line may be (a heading in its own title wrapper); a paragraph must be
# the next line's sibling.
MAX_DEPTH = 2
BOX_NAMES = ("related", "caption")
MARKUP = re.compile(r"<[a-z]|&[a-z]+;", re.I)


def near(block, other, depth):
    """Whether block and other share a container at most depth levels up from block."""
    others = set(other.iterancestors())
    for level, ancestor in enumerate(block.iterancestors()):
        if level >= depth:
            return False
        if ancestor in others:
            return True
    return False


def in_box(block, depth=MAX_DEPTH):
    """Whether the block or a container just above it is a related or caption box."""
    for level, element in enumerate([block, *block.iterancestors()]):
        if level > depth:
            return False
        names = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if any(name in names for name in BOX_NAMES):
            return True
    return False


def fits(block, text, following):
    """Whether a skipped block belongs to the run the following kept block continues."""
    if block.tag not in GAP_BLOCKS:
        return False
    if MARKUP.search(text) or in_box(block) or is_aside(block):
        return False
    # A block that holds a picture is a caption or a card.
    if next(block.iter("img"), None) is not None:
        return False
    if next(block.iterancestors("figure"), None) is not None:
        return False
    if link_share(block) >= MAX_LINK_SHARE.get(block.tag, DEFAULT_LINK_SHARE):
        return False
    depth = 1 if block.tag == "p" else MAX_DEPTH
    return near(block, following, depth)


def gap_texts(run, following, known):
    """The texts of a gap's skipped blocks; none if one of them is not the article's."""
    texts = []
    for block, text in run:
        # A block holding others is judged by them.
        if next(block.iterdescendants(*BLOCKS), None) is not None:
            continue
        if len(text.split()) >= COVERED_WORDS and covered(text, known):
            continue
        # Scripts and styles inside a block are not its text.
        if next(block.iter("script", "style", "noscript"), None) is not None:
            continue
        if not fits(block, text, following):
            return []
        texts.append(text)
    return texts


def fill_gaps(tree, lines):
    """The lines with the skipped blocks between two consecutive lines put back."""
    if tree is None or len(lines) < 2:
        return lines
    where = {squash(line): number for number, line in enumerate(lines)}
    known = None
    inserts, run, last = {}, [], None
    for block in tree.iter(*BLOCKS):
        text = squash(block.text_content())
        if not text:
            continue
        number = where.get(text)
        if number is None:
            if last is not None:
                run.append((block, text))
            continue
        # Judged only once a gap closes on the next line: most skipped
        # blocks (menus, footers) never sit between two kept lines.
        if run and number == last + 1:
            known = known or shingles(" ".join(lines))
            inserts[last] = gap_texts(run, block, known)
        run, last = [], number
    return with_inserts(lines, inserts)
