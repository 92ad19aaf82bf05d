"""Key points: the most central sentences of an article, in reading order (offline)."""

import math
import re
from collections import Counter

from .text import STOPWORDS, WORD

SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9À-Ý])")
MIN_WORDS, MAX_WORDS = 6, 60
MAX_SENTENCES = 80


def split_sentences(text):
    sentences = []
    for paragraph in text.splitlines():
        for sentence in SENTENCE_END.split(paragraph.strip()):
            sentence = sentence.strip()
            if MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
                sentences.append(sentence)
    return sentences[:MAX_SENTENCES]


def key_points(text, count=3):
    """Up to `count` sentences, ranked by TF-IDF cosine centrality (LexRank's degree)."""
    sentences = split_sentences(text)
    if len(sentences) <= count:
        return sentences
    bags = [Counter(w for w in WORD.findall(s.lower()) if w not in STOPWORDS) for s in sentences]
    frequency = Counter(term for bag in bags for term in bag)
    total = len(bags)
    vectors = []
    for bag in bags:
        vector = {t: c * math.log((total + 1) / (frequency[t] + 1)) + c for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items()})
    # The sum of a sentence's cosines with all others is its dot product with
    # the sum of all vectors, less its own: linear in sentences, not quadratic.
    total_vector = Counter()
    for vector in vectors:
        total_vector.update(vector)
    centrality = []
    for i, vector in enumerate(vectors):
        score = sum(weight * (total_vector[term] - weight) for term, weight in vector.items())
        # News puts what matters first (the inverted pyramid), and a very
        # short sentence is rarely a point on its own.
        position = 1.0 + 0.6 * (1 - i / total)
        length = min(1.0, len(sentences[i].split()) / 18)
        centrality.append(score * position * length)
    best = sorted(range(total), key=lambda i: -centrality[i])[:count]
    return [sentences[i] for i in sorted(best)]
