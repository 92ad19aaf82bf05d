"""Key points: sentences that add to the opening a reader sees anyway (extractive, offline).

The page prints the body under the box, so its first paragraph, and the
standfirst, are never a point. The points are chosen greedily to cover the
text's most frequent content words (names and figures weigh more), each new
point for the words the earlier ones left out, and shown in reading order.
"""

import re
from collections import Counter

from .text import STOPWORDS, WORD, shingles

SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9À-Ý])")
MIN_WORDS, MAX_WORDS = 6, 60
MAX_SENTENCES = 80
NAME = re.compile(r"(?<=\s)[A-ZÀ-Ý][\w’'-]+|\d[\d,.]*")
# A sentence sharing this much of its five-word runs with the standfirst, or
# with a point already chosen, says nothing new.
NEAR_COPY = 0.5
# Words a point can cover: the text's strongest, not every word once.
COVERED_TERMS = 20
NAME_WEIGHT = 2.0
# A text with fewer sentences than this beyond its opening has no points to
# add; one with a few more gets one point for every POINT_PER sentences.
MIN_SENTENCES = 3
POINT_PER = 3


def paragraphs_of(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def sentences_of(paragraph):
    sentences = (sentence.strip() for sentence in SENTENCE_END.split(paragraph))
    return [s for s in sentences if MIN_WORDS <= len(s.split()) <= MAX_WORDS]


def split_sentences(text):
    return [s for paragraph in paragraphs_of(text) for s in sentences_of(paragraph)][:MAX_SENTENCES]


def words_of(sentence):
    return {word for word in WORD.findall(sentence.lower()) if word not in STOPWORDS}


def term_weights(text):
    """{word: weight} of the text's COVERED_TERMS strongest words: counts, names and figures doubled."""
    counts = Counter(word for word in WORD.findall(text.lower()) if word not in STOPWORDS)
    for name in NAME.findall(text):
        word = name.lower()
        if word in counts:
            counts[word] += NAME_WEIGHT - 1
    return dict(counts.most_common(COVERED_TERMS))


def is_near_copy(sentence, others, own=None):
    """`own` is the sentence's shingles, when the caller has them already."""
    own = shingles(sentence) if own is None else own
    return any(len(own & other) / (len(own) or 1) >= NEAR_COPY for other in others)


def opening_and_rest(text):
    """(first paragraph, the later paragraphs' sentences); a text of one paragraph has no rest."""
    paragraphs = paragraphs_of(text)
    later = [s for paragraph in paragraphs[1:] for s in sentences_of(paragraph)]
    return (paragraphs[0] if paragraphs else ""), later[:MAX_SENTENCES]


def key_points(text, standfirst="", count=3):
    """Up to `count` sentences from after the first paragraph that cover the text's main words."""
    opening, sentences = opening_and_rest(text)
    seen = [shingles(opening), *(shingles(s) for s in sentences_of(standfirst) or [standfirst] if s)]
    # Each sentence's shingles and length once: the greedy loop below looks
    # at every sentence for every point.
    kept = [(s, shingles(s)) for s in sentences]
    kept = [(s, own) for s, own in kept if not is_near_copy(s, seen, own)]
    if len(kept) < MIN_SENTENCES:
        return []
    sentences = [s for s, _ in kept]
    own_shingles = [own for _, own in kept]
    lengths = [len(s.split()) for s in sentences]
    count = min(count, max(1, len(sentences) // POINT_PER))
    weights = term_weights(text)
    bags = [words_of(sentence) for sentence in sentences]
    uncovered = dict(weights)
    chosen = []
    refilled = False
    while len(chosen) < count:
        best, best_gain = None, 0.0
        chosen_shingles = [own_shingles[i] for i in chosen]
        for index, bag in enumerate(bags):
            if index in chosen:
                continue
            gain = sum(uncovered.get(word, 0.0) for word in bag)
            # Long sentences cover more by length alone: count words a little.
            gain /= 1 + lengths[index] / 40
            if gain > best_gain and not is_near_copy(
                sentences[index], chosen_shingles, own_shingles[index]
            ):
                best, best_gain = index, gain
        if best is None:
            if refilled or len(uncovered) == len(weights):
                break
            # Every strong word is covered: the next point covers them again.
            uncovered, refilled = dict(weights), True
            continue
        chosen.append(best)
        for word in bags[best]:
            uncovered.pop(word, None)
    return [sentences[index] for index in sorted(chosen)]
