"""The shared corpus (../shared/corpus, or CORPUS_DIR): where it is, how its
extraction sets are read and scored. Used by the tests and by bench/.

Never copied into the project: read in place.
"""

import gzip
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
TOKEN = re.compile(r"\w+")


def corpus_path(*parts):
    """A path under the corpus; skips without it, fails under CI."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        message = f"corpus not found at {path} (set CORPUS_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def read_html(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def load_aeb(folder):
    truth = json.loads((folder / "ground-truth.json").read_text())
    for page_id, expected in sorted(truth.items()):
        yield {
            "name": page_id,
            "html": read_html(folder / "html" / f"{page_id}.html.gz"),
            "url": expected.get("url", ""),
            "body": expected["articleBody"],
        }


def load_fundus(folder):
    for line in (folder / "expected.jsonl").read_text().splitlines():
        record = json.loads(line)
        expected = record["expected"]
        body = expected.get("body", {})
        parts = list(body.get("summary", []))
        for section in body.get("sections", []):
            parts += section.get("headline", []) + section.get("paragraphs", [])
        yield {
            "name": record["file"],
            "html": read_html(folder / record["file"]),
            "url": record.get("url", ""),
            "body": "\n".join(parts),
            "title": expected.get("title", ""),
            "authors": expected.get("authors", []),
            "date": (expected.get("publishing_date") or "")[:10],
        }


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


def load_wcxb(folder):
    """wcxb-articles: each page's true text, snippets and metadata."""
    for truth_path in sorted((folder / "ground-truth").glob("*.json")):
        record = json.loads(truth_path.read_text())
        truth = record["ground_truth"]
        yield {
            "name": record.get("file_id", truth_path.stem),
            "html": read_html(folder / "html" / f"{truth_path.stem}.html.gz"),
            "url": record.get("url", ""),
            "body": truth.get("main_content") or "",
            "with": truth.get("with") or [],
            "without": truth.get("without") or [],
            "title": truth.get("title") or "",
            "author": truth.get("author") or "",
            "date": (truth.get("publish_date") or "")[:10],
        }


def wcxb_page_scores(page, predicted_text):
    """(precision, recall, f1, with, without) of one page by WCXB's rule."""
    true = Counter(TOKEN.findall((page["body"] or "").lower()))
    predicted = Counter(TOKEN.findall((predicted_text or "").lower()))
    overlap = sum((true & predicted).values())
    true_count, predicted_count = sum(true.values()), sum(predicted.values())
    if not true_count and not predicted_count:
        precision = recall = f1 = 1.0
    elif not true_count or not predicted_count:
        precision = recall = f1 = 0.0
    else:
        precision, recall = overlap / predicted_count, overlap / true_count
        f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    lowered = (predicted_text or "").lower()
    found = [snippet.lower() in lowered for snippet in page["with"]]
    absent = [snippet.lower() not in lowered for snippet in page["without"]]
    with_share = sum(found) / len(found) if found else 1.0
    without_share = sum(absent) / len(absent) if absent else 1.0
    return precision, recall, f1, with_share, without_share


def score_wcxb(pages, predicted_texts):
    """Means over pages of WCXB's (precision, recall, f1, with, without)."""
    rows = [wcxb_page_scores(page, text) for page, text in zip(pages, predicted_texts)]
    return tuple(sum(column) / len(rows) for column in zip(*rows)) if rows else (0.0,) * 5
