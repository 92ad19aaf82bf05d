"""The extraction benchmark's scoring rule (see ../shared/corpus/README.md)."""

import re
from collections import Counter

TOKEN = re.compile(r"\w+")


def shingles(text, size=4):
    tokens = TOKEN.findall(text or "")
    if len(tokens) < size:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def page_counts(true_text, predicted_text):
    """(tp, fp, fn) of one page, normalised to sum to 1 so pages weigh the same."""
    true, predicted = shingles(true_text), shingles(predicted_text)
    tp = fp = fn = 0
    for shingle in true.keys() | predicted.keys():
        t, p = true.get(shingle, 0), predicted.get(shingle, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def score_pages(pairs):
    """Precision, recall and F1 over (true_text, predicted_text) pairs."""
    precisions, recalls = [], []
    for true_text, predicted_text in pairs:
        tp, fp, fn = page_counts(true_text, predicted_text)
        if fp == 0 and fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
