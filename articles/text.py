"""Words for similarity: the tokeniser and stop words shared by related and summary."""

import hashlib
import re

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    """about above after again against all also among and any are around because been before
    being below between both but can could did does doing down during each even ever every few
    for from further had has have having her here hers herself him himself his how however into
    its itself just last like made make many may more most much must near new news not now off
    once one only other our ours out over own per said same say says she should since some such
    than that the their theirs them themselves then there these they this those three through
    told too two under until upon very was way were what when where which while who whom whose
    why will with within without would year years yet you your yours also according still
    first time week day today yesterday people""".split()
)


TOKEN = re.compile(r"\w+(?:['’.,-]\w+)*", re.UNICODE)
SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+|\n+")
TITLE_REPEAT = 2
MAX_TEXT_CHARS = 8000


def is_term(word):
    """A content word: no stop word, no short fragment, no bare small number."""
    if word.isdigit():
        return len(word) >= 2
    return len(word) >= 3 and word not in STOPWORDS and not word.startswith("_")


def has_digit(word):
    # isalpha first: a C call that settles most words without a Python loop.
    return not word.isalpha() and any(character.isdigit() for character in word)


def article_features(title, text):
    """Term counts: lowercased words, word pairs, and names marked with a leading '^'.

    Names (capitalised mid-sentence, or numbers) tell one event from another
    of the same kind better than common words: two earthquakes share
    "magnitude" and "killed", not the place and the figure.
    """
    counts = {}
    sentences = [title] * TITLE_REPEAT + SENTENCE_END.split(text[:MAX_TEXT_CHARS])
    for sentence in sentences:
        words = TOKEN.findall(sentence)
        previous = None
        for position, word in enumerate(words):
            lower = word.lower().replace("’", "'")
            if lower.endswith("'s"):
                lower = lower[:-2]
            if not is_term(lower):
                previous = None
                continue
            counts[lower] = counts.get(lower, 0) + 1
            if (position > 0 and word[0].isupper()) or has_digit(word):
                counts["^" + lower] = counts.get("^" + lower, 0) + 1
            if previous is not None:
                pair = f"{previous} {lower}"
                counts[pair] = counts.get(pair, 0) + 1
            previous = lower
    return counts


def text_fingerprint(text):
    """Same for the same wire text, whatever the headline, markup or spacing."""
    words = TOKEN.findall(text.lower())
    # Too short a text (a teaser) would match unrelated teasers.
    return hashlib.sha256(" ".join(words[:400]).encode()).hexdigest() if len(words) >= 40 else ""


def shingles(text, size=5):
    words = TOKEN.findall(text.lower())
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}
