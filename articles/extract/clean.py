"""Remove the page chrome that survives trafilatura: link lists, prompts, repeats."""

import re
from collections import Counter

from lxml import etree

from .facts import normal

# Share, subscribe and reprint prompts, whole-line only: the same words inside
# a sentence are article text.
PROMPT_LINE = re.compile(
    r"^(advertisement|advertisment|ad|sponsored|story continues below( advertisement)?"
    r"|continue reading( below)?|read more|see also|related( articles| stories| content)?"
    r"|more from .{0,40}|share( this)?( article| story)?|share on \w+|tweet|email|print( article)?"
    r"|order reprints|sign up|subscribe( now)?|thank you|thanks for signing up!?|sorry!?"
    r"|view comments|comments|leave a comment|tags?|topics?|photo|image|video|watch|listen"
    r"|click here.*|follow us.*|log ?in|register|skip (to )?(main )?content|back to top)[.:!]?$",
    re.I,
)
PROMPT_START = re.compile(
    r"^(sign up (for|to)|subscribe to|get the latest .{0,60}(inbox|newsletter)|this copy is for your personal"
    r"|copyright ©|© ?\d{4}|all rights reserved|an error has occurred|there was an error"
    r"|by signing up|you can unsubscribe|we use cookies|keep an eye on your inbox)",
    re.I,
)
# Labels that introduce a link to another story ("READ MORE: <link>") in
# the languages most news is written in, and "[VIDEO]"-like tags after one.
TEASER_LABEL = re.compile(
    r"^((read|see|watch|listen)( more| also)?|more|related( stories| articles| content)?"
    r"|(also|further) read(ing)?|read also|(you )?(may|might) also like|don'?t miss"
    r"|recommended|also on \S+|lire aussi|à lire aussi|voir aussi|leggi anche|lesen sie auch"
    r"|mehr zum thema|lea también|ver también|leia também|veja também|читайте также"
    r"|см\. также)$",
    re.I,
)
TEASER_TAG = re.compile(r"\[[^\]]{1,20}\]")
TEASER_LINK_SHARE = 0.75
TEASER_MIN_WORDS = 3
SHOUTED_LINK_SHARE = 0.9
LINKED_BLOCKS = etree.XPath(
    "//a//*[self::p or self::div or self::li or self::h1 or self::h2 or self::h3"
    " or self::h4 or self::h5 or self::h6]"
)
MAX_LINKED_SHARE = 0.5
# Only blocks that hold a link can be teasers.
TEASER_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6")
# Short lines only: a dateline, a picture credit or a call to join in.
SHORT_CHROME_LINE = re.compile(
    r"^((last )?(updated|published|posted|modified)\b.*\d.*"
    r"|.{0,40}?\d+ (seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?) ago"
    r"|(photo|photograph|picture|image|foto|фото|bild|credit|source|quelle)s?( credit)?\s*:.*"
    r"|join (us|our|the) .*|tell us what you think.*|(like|enjoy(ed)?) this (story|article)\?.*)$",
    re.I,
)
SHORT_CHROME_WORDS = 10
# A year and a clock time on one short line is a dateline in any language.
DATELINE = re.compile(r"^(?=.*\b(19|20)\d\d\b)(?=.*\b\d{1,2}[:h]\d\d\b)")
REPEAT_MIN_WORDS = 12
MANY_REPEATS = 5
SECOND_RENDERING = 0.8


NON_WORD = re.compile(r"\W")


def letter_share(texts, whole):
    """The share of whole's letters that texts hold."""
    letters = len(NON_WORD.sub("", whole))
    if not letters:
        return 0.0
    return sum(len(NON_WORD.sub("", text)) for text in texts) / letters


def link_share(element):
    linked = ("".join(link.itertext()) for link in element.iter("a"))
    return letter_share(linked, "".join(element.itertext()))


def is_link_teaser(block):
    """A paragraph that is a link to another story behind a label or tag.

    A link shouted in capitals on its own line is one too: a promo.
    """
    linked = ["".join(link.itertext()) for link in block.iter("a")]
    if len(" ".join(linked).split()) < TEASER_MIN_WORDS:
        return False
    rest = "".join(block.itertext())
    share = letter_share(linked, rest)
    if share < TEASER_LINK_SHARE:
        return False
    if share >= SHOUTED_LINK_SHARE and rest.isupper():
        return True
    for text in linked:
        rest = rest.replace(text, " ", 1)
    rest, tags = TEASER_TAG.subn(" ", rest)
    rest = re.sub(r"[\s|•·:\-–—()]+", " ", rest).strip(" .!?")
    return bool(TEASER_LABEL.match(rest)) or bool(tags) and not rest


def link_teasers(tree):
    """The texts of the page's "READ MORE: <another story>" lines, to drop from the text.

    Read on the page, not on trafilatura's output: its links option loses
    the text before a link on some pages (bench/NOTES-extraction.md).
    """
    if tree is None:
        return set()
    # Not an XPath `[.//a]` test: on aeb it took more time than the rest
    # of this function together (0.37 s of 0.69 s for 181 pages).
    blocks = tree.iter(*TEASER_BLOCKS)
    linking = (block for block in blocks if next(block.iter("a"), None) is not None)
    teasers = (block for block in linking if is_link_teaser(block))
    return {normal(block.text_content()) for block in teasers} - {""}


def is_chrome_line(line):
    plain = line.lstrip("-•* ").strip()
    return bool(
        PROMPT_LINE.match(plain)
        or PROMPT_START.match(plain)
        or TEASER_LABEL.match(plain.rstrip(".:…! "))
        or len(plain.split()) <= SHORT_CHROME_WORDS
        and (SHORT_CHROME_LINE.match(plain) or DATELINE.match(plain))
    )


def linked_blocks(tree, lines):
    """Texts of the blocks a page wraps in a link: teaser cards, never the article.

    A card's excerpt inside <a> loses its link in extraction, so it is
    recognised by its text. An unclosed <a> can swallow the whole article:
    when the cards would be most of the text, none are.
    """
    if tree is None:
        return set()
    keys = {normal(block.text_content()) for block in LINKED_BLOCKS(tree)} - {""}
    linked = sum(len(line) for line in lines if normal(line) in keys)
    return keys if linked < MAX_LINKED_SHARE * sum(map(len, lines)) else set()


def droppable_repeats(lines):
    """normal() keys of the paragraphs whose second copies go.

    A paragraph printed twice is a pull quote, and most of the text printed
    twice a second rendering of it; but many repeats among paragraphs that
    do not repeat are a plan or list that repeats on purpose (a meal plan's
    days): those stay. Short lines repeat in real text (recipes, interviews).
    """
    keys = (normal(line) for line in lines)
    counts = Counter(key for key in keys if len(key.split()) >= REPEAT_MIN_WORDS)
    repeats = {key for key, count in counts.items() if count > 1}
    if MANY_REPEATS <= len(repeats) < SECOND_RENDERING * len(counts):
        return set()
    return repeats


def clean_lines(lines, title="", teasers=frozenset()):
    """Drop the headline, teasers, prompts, bare time stamps and repeated paragraphs.

    teasers: normal() keys of lines to drop: cards, other forms of the
    headline, the page's own address.
    """
    title_key = normal(title)
    kept, seen = [], set()
    repeats = droppable_repeats(lines)
    for line in lines:
        key = normal(line)
        if not key or key in teasers:
            continue
        if title_key and key == title_key:
            continue
        if is_chrome_line(line):
            continue
        if key in seen and key in repeats:
            continue
        seen.add(key)
        kept.append(line)
    return kept

