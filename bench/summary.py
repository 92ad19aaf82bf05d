"""Key points on the corpus' true article texts: do they add to the opening, and cover the text?

    python bench/summary.py

Texts: scrapinghub-aeb and wcxb-articles ground truth, fundus' expected paragraphs (its
summary is the standfirst). Per set, then over all:
    summary lead_share=0.00 coverage=0.00 lead3_coverage=0.00 ms_per_article=0.0
lead_share: share of key points found in the text's first paragraph (target <= 0.05).
coverage: share of the text's ten highest TF-IDF words (IDF over all the texts) that appear
in its key points, over texts that have key points; lead3_coverage: the same for its first
three sentences, on the same texts. ms_per_article: key_points' time, all texts.
"""

import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles.summary import key_points, paragraphs_of, split_sentences, words_of  # noqa: E402
from articles.text import STOPWORDS, WORD  # noqa: E402
from tests.corpus import CORPUS  # noqa: E402

TOP_TERMS = 10


def aeb_texts(folder):
    truth = json.loads((folder / "ground-truth.json").read_text())
    return [(expected["articleBody"], "") for _, expected in sorted(truth.items())]


def wcxb_texts(folder):
    texts = []
    for path in sorted((folder / "ground-truth").glob("*.json")):
        texts.append((json.loads(path.read_text())["ground_truth"]["main_content"], ""))
    return texts


def fundus_texts(folder):
    texts = []
    for line in (folder / "expected.jsonl").read_text().splitlines():
        body = json.loads(line)["expected"].get("body", {})
        paragraphs = [p for section in body.get("sections", []) for p in section.get("paragraphs", [])]
        texts.append(("\n".join(paragraphs), " ".join(body.get("summary", []))))
    return texts


SETS = {
    "aeb": ("scrapinghub-aeb", aeb_texts),
    "fundus": ("fundus", fundus_texts),
    "wcxb": ("wcxb-articles", wcxb_texts),
}


def top_terms(text, frequencies, documents):
    counts = Counter(word for word in WORD.findall(text.lower()) if word not in STOPWORDS)
    weight = {w: c * math.log((documents + 1) / (frequencies[w] + 1)) for w, c in counts.items()}
    return sorted(weight, key=lambda word: (-weight[word], word))[:TOP_TERMS]


def measure(texts, frequencies, documents):
    points_total = points_in_lead = 0
    coverage = lead3 = 0.0
    summarised = 0
    started = time.process_time()
    results = [key_points(text, standfirst) for text, standfirst in texts]
    seconds = time.process_time() - started
    for (text, _), points in zip(texts, results):
        paragraphs = paragraphs_of(text)
        first = paragraphs[0] if paragraphs else ""
        points_total += len(points)
        points_in_lead += sum(1 for point in points if point in first)
        if not points:
            continue
        summarised += 1
        terms = top_terms(text, frequencies, documents)
        covered = set().union(*(words_of(point) for point in points))
        opening = set().union(set(), *(words_of(s) for s in split_sentences(text)[:3]))
        coverage += sum(term in covered for term in terms) / (len(terms) or 1)
        lead3 += sum(term in opening for term in terms) / (len(terms) or 1)
    return {
        "texts": len(texts),
        "summarised": summarised,
        "points": points_total,
        "lead_share": points_in_lead / (points_total or 1),
        "coverage": coverage / (summarised or 1),
        "lead3_coverage": lead3 / (summarised or 1),
        "ms_per_article": 1000 * seconds / (len(texts) or 1),
    }


def line(name, result):
    return (
        f"{name} lead_share={result['lead_share']:.2f} coverage={result['coverage']:.2f} "
        f"lead3_coverage={result['lead3_coverage']:.2f} ms_per_article={result['ms_per_article']:.1f}"
        f"  ({result['summarised']} of {result['texts']} texts with points, {result['points']} points)"
    )


def main():
    texts = {}
    for name, (folder, load) in SETS.items():
        path = CORPUS / "extraction" / folder
        if not path.exists():
            sys.exit(f"corpus not found at {path} (set CORPUS_DIR)")
        texts[name] = [(text, standfirst) for text, standfirst in load(path) if text.strip()]
    everything = [pair for pairs in texts.values() for pair in pairs]
    frequencies = Counter()
    for text, _ in everything:
        frequencies.update({w for w in WORD.findall(text.lower()) if w not in STOPWORDS})
    for name, pairs in texts.items():
        print(line(name, measure(pairs, frequencies, len(everything))))
    print(line("summary", measure(everything, frequencies, len(everything))))


if __name__ == "__main__":
    main()
