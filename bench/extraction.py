"""Score the pipeline's own extraction function on benchmark pages, beside plain trafilatura.

    python bench/extraction.py [--sets aeb,fundus,wcxb] [--every N] [--passes N] [--below]
    python bench/extraction.py --dir DIR --format aeb|fundus|wcxb

Without --dir, runs the three ../shared/corpus/extraction sets. pages_per_s is CPU time of
this one process over every page of the set, the best of --passes passes (like timeit:
on a shared VM the same loop takes up to 1.6x longer from one second to the next, and
interference only ever slows a pass down). The scores come from the first pass; the
extraction is deterministic. --every N scores every Nth page only (while iterating).
Each set's line is followed by plain trafilatura's on the same pages in the same run
(`extract()`, default options, one pass), so every rule is judged against the library:
    aeb f1=0.000 precision=0.000 recall=0.000 pages_per_s=0.0
    trafilatura aeb f1=0.000 precision=0.000 recall=0.000 pages_per_s=0.0
    fundus f1=0.000 precision=0.000 recall=0.000 title=N/N author=N/N date=N/N pages_per_s=0.0
    wcxb f1=0.000 precision=0.000 recall=0.000 with=0.000 without=0.000 title=N/N author=N/N date=N/N pages_per_s=0.0
aeb and fundus are scored by the AEB benchmark's shingle rule, wcxb by WCXB's word rule
(both in ../shared/corpus/README.md; tests/corpus.py implements them).
--below lists the pages where our recall or must-include share is under trafilatura's.
"""

import argparse
import difflib
import os
import re
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus import (  # noqa: E402
    CORPUS,
    load_aeb,
    load_fundus,
    load_wcxb,
    page_counts,
    score_pages,
    score_wcxb,
    wcxb_page_scores,
)

LOADERS = {"aeb": load_aeb, "fundus": load_fundus, "wcxb": load_wcxb}
FOLDERS = {"aeb": "scrapinghub-aeb", "fundus": "fundus", "wcxb": "wcxb-articles"}


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")
    import django

    django.setup()


def normal(text):
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"\W+", " ", text).strip()


def title_right(expected, got):
    return normal(expected) == normal(got)


def title_close(expected, got):
    """A lenient reading of "right": plain trafilatura scores 42/47 under it on
    fundus, the figure the corpus README quotes (it scores 34/47 exact)."""
    return difflib.SequenceMatcher(None, normal(expected), normal(got)).ratio() >= 0.8


def author_right(expected, got):
    """Every expected name is in what we found.

    expected: a list of names (fundus), or one string (wcxb) that reads
    "Name, credentials or job": the person's name before the first comma,
    without a "Dr." in front, is what is looked for.
    """
    if isinstance(expected, str):
        name = re.sub(r"^(dr|prof|mr|mrs|ms)\.?\s+", "", expected.split(",")[0].strip(), flags=re.I)
        expected = [name] if normal(name) else []
    if not expected:
        return not got
    got = normal(got)
    return bool(got) and all(normal(name) in got for name in expected)


def date_right(expected, got):
    return bool(got) and got.date().isoformat() == expected


def run(pages, extract, passes=3):
    """The first pass's results and the pages a CPU second of the fastest pass."""
    results, fastest = [], None
    for n in range(passes):
        started = time.process_time()
        outputs = [extract(page["html"], page["url"]) for page in pages]
        elapsed = time.process_time() - started
        fastest = elapsed if fastest is None else min(fastest, elapsed)
        if n == 0:
            results = outputs
    return results, len(pages) / fastest if fastest else 0.0


def plain_trafilatura(html, url):
    from trafilatura import extract

    return extract(html, url=url or None) or ""


def text_scores(kind, pages, texts, digits=3):
    """The set's scores as "name=value" parts, and per page (recall, with) for --below."""
    if kind == "wcxb":
        precision, recall, f1, found, absent = score_wcxb(pages, texts)
        parts = f"f1={f1:.{digits}f} precision={precision:.{digits}f} recall={recall:.{digits}f} with={found:.{digits}f} without={absent:.{digits}f}"
        per_page = [wcxb_page_scores(page, text) for page, text in zip(pages, texts)]
        return parts, [(row[1], row[3]) for row in per_page]
    precision, recall, f1 = score_pages([(page["body"], text) for page, text in zip(pages, texts)])
    parts = f"f1={f1:.{digits}f} precision={precision:.{digits}f} recall={recall:.{digits}f}"
    per_page = []
    for page, text in zip(pages, texts):
        tp, _fp, fn = page_counts(page["body"], text)
        per_page.append((tp / (tp + fn) if tp + fn else 1.0, 1.0))
    return parts, per_page


def metadata_scores(kind, pages, extractions):
    if kind == "fundus":
        n = len(pages)
        titles = sum(title_right(p["title"], e.title) for p, e in zip(pages, extractions))
        authors = sum(author_right(p["authors"], e.author) for p, e in zip(pages, extractions))
        dates = sum(date_right(p["date"], e.published_at) for p, e in zip(pages, extractions))
        return f" title={titles}/{n} author={authors}/{n} date={dates}/{n}"
    if kind == "wcxb":
        rows = list(zip(pages, extractions))
        titles = sum(title_right(p["title"], e.title) for p, e in rows)
        with_author = [(p, e) for p, e in rows if normal(p["author"])]
        authors = sum(author_right(p["author"], e.author) for p, e in with_author)
        with_date = [(p, e) for p, e in rows if p["date"]]
        dates = sum(date_right(p["date"], e.published_at) for p, e in with_date)
        return (
            f" title={titles}/{len(rows)} author={authors}/{len(with_author)}"
            f" date={dates}/{len(with_date)}"
        )
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--format", choices=list(LOADERS))
    parser.add_argument("--sets", default="aeb,fundus,wcxb", help="Comma-separated sets to run.")
    parser.add_argument("--every", type=int, default=1, help="Score every Nth page only.")
    parser.add_argument("--worst", type=int, default=0, help="List the N worst pages.")
    parser.add_argument("--below", action="store_true", help="List pages below trafilatura.")
    parser.add_argument("--passes", type=int, default=3, help="Timed passes; the fastest counts.")
    parser.add_argument("--no-reference", action="store_true", help="Skip plain trafilatura.")
    args = parser.parse_args()
    corpus = CORPUS / "extraction"
    if args.dir:
        sets = [(args.format or "aeb", args.dir)]
    else:
        sets = [(kind, corpus / FOLDERS[kind]) for kind in args.sets.split(",")]
    setup_django()
    from articles.extract import extract_page

    lines, notes = [], []
    for kind, folder in sets:
        pages = list(LOADERS[kind](folder))[:: max(1, args.every)]
        extractions, speed = run(pages, extract_page, max(1, args.passes))
        parts, ours = text_scores(kind, pages, [e.text for e in extractions])
        line = f"{kind} {parts}" + metadata_scores(kind, pages, extractions)
        if kind == "fundus":
            n = len(pages)
            close = sum(title_close(p["title"], e.title) for p, e in zip(pages, extractions))
            notes.append(
                f"# {kind} titles within 0.8 similarity (plain trafilatura: 42/47, the README figure): {close}/{n}"
            )
        if args.worst:
            worst = sorted(zip((recall for recall, _ in ours), (p["name"] for p in pages)))
            for recall, name in worst[: args.worst]:
                print(f"  {kind} worst recall={recall:.2f} {name}", file=sys.stderr)
        lines.append(line + f" pages_per_s={speed:.1f}")
        if args.no_reference:
            continue
        texts, speed = run(pages, plain_trafilatura, 1)
        parts, theirs = text_scores(kind, pages, texts)
        lines.append(f"trafilatura {kind} {parts} pages_per_s={speed:.1f}")
        if args.below:
            for page, (recall, found), (their_recall, their_found) in zip(pages, ours, theirs):
                if recall < their_recall - 0.005 or found < their_found:
                    print(
                        f"  {kind} below {page['name']} recall={recall:.3f}/{their_recall:.3f}"
                        f" with={found:.2f}/{their_found:.2f} {page['url']}",
                        file=sys.stderr,
                    )
    print("\n".join(notes + lines))


if __name__ == "__main__":
    main()
