"""Term vectors and their cosines: pure maths, no database."""

import math

from ..text import has_digit

VECTOR_TERMS = 120
# Names and figures count more than common words; word pairs a little.
NAME_BOOST = 1.6
PAIR_BOOST = 1.0
FIGURES_WEIGHT = 0.3
FIGURE_TERMS = 30


def weigh_features(features, frequencies, documents):
    """Unit TF-IDF vector of the strongest VECTOR_TERMS features, plus a figures part.

    Document frequencies are kept for single words only (pairs would fill a
    table with one-off rows); a pair weighs the mean of its two words. The
    figures in the text (dates, counts, magnitudes, scores) also form a unit
    vector of their own, added with FIGURES_WEIGHT under a '#' prefix: two
    events of one kind share their words far more often than their figures.
    """

    def idf(word):
        return math.log((documents + 1) / (frequencies.get(word, 0) + 1)) + 1

    weights = {}
    figures = {}
    for feature, count in features.items():
        if " " in feature:
            first, second = feature.split(" ", 1)
            weight = PAIR_BOOST * (idf(first) + idf(second)) / 2
        elif feature.startswith("^"):
            weight = NAME_BOOST * idf(feature[1:])
            if has_digit(feature[1:]):
                figures["#" + feature[1:]] = (1 + math.log(count)) * idf(feature[1:])
        else:
            weight = idf(feature)
        weights[feature] = (1 + math.log(count)) * weight
    vector = unit(sorted(weights.items(), key=lambda item: -item[1])[:VECTOR_TERMS])
    figures = unit(sorted(figures.items(), key=lambda item: -item[1])[:FIGURE_TERMS])
    vector.update((term, math.sqrt(FIGURES_WEIGHT) * weight) for term, weight in figures.items())
    norm = math.sqrt(sum(weight * weight for weight in vector.values())) or 1.0
    return {feature: round(weight / norm, 5) for feature, weight in vector.items()}


def unit(items):
    norm = math.sqrt(sum(weight * weight for _, weight in items)) or 1.0
    return {feature: weight / norm for feature, weight in items}


def article_words(features):
    """The single words of article_features' counts: what document frequencies count."""
    return {feature for feature in features if " " not in feature and not feature.startswith("^")}


def cosine(first, second):
    # The shared terms first, in C: most pairs share a few of their hundred.
    return sum(first[term] * second[term] for term in first.keys() & second.keys())


def add_vector(total, terms, sign=1.0):
    for term, weight in terms.items():
        total[term] = total.get(term, 0.0) + sign * weight


def centroid_similarity(terms, total, own=False):
    """Cosine of an article to a story's summed vector (without itself when it is a member)."""
    if own:
        total = dict(total)
        add_vector(total, terms, -1.0)
    norm = math.sqrt(sum(weight * weight for weight in total.values()))
    return cosine(terms, total) / norm if norm > 1e-9 else 0.0
