import subprocess
import sys

from articles.summary import key_points, split_sentences
from tests.corpus import ROOT, corpus_path

OPENING = (
    "The river Lune burst its banks in Marrowby on Tuesday night, flooding the old town. "
    "About 1,200 residents were evacuated from homes near the river as the water rose."
)
REST = [
    "Mayor Ilse Varga said the evacuation of Marrowby went smoothly and thanked 300 volunteers.",
    "A bakery on Quay Street handed out bread to people waiting at the shelter.",
    "Forecasters expect the Lune to fall by Thursday, but warned that more rain is due.",
    "The flooding in Marrowby is the worst since records began, the river authority said.",
    "Insurers estimate the damage in Marrowby at 40 million pounds, Varga told the council.",
    "The council will meet on Friday to decide on new flood defences for the Lune.",
    "Schools in the old town stay closed until the water has gone down.",
    "Residents of the old town can claim emergency grants of 500 pounds from the council.",
    "The railway line to Keswick reopened on Wednesday after engineers checked the bridge.",
]
TEXT = OPENING + "\n" + "\n".join(REST)


def test_points_never_come_from_the_opening_paragraph():
    points = key_points(TEXT)
    assert len(points) == 3
    assert not any(point in OPENING for point in points)


def test_points_are_in_reading_order_and_cover_the_names_and_figures():
    points = key_points(TEXT)
    assert [REST.index(point) for point in points] == sorted(REST.index(point) for point in points)
    covered = " ".join(points)
    assert "Marrowby" in covered and "Varga" in covered and "council" in covered
    assert not any("bakery" in point for point in points)


def test_a_near_copy_of_the_standfirst_is_never_a_point():
    standfirst = "Insurers estimate the damage in Marrowby at 40 million pounds, Varga said."
    assert any("Insurers" in point for point in key_points(TEXT))
    assert not any("Insurers" in point for point in key_points(TEXT, standfirst))


def test_short_texts_get_fewer_points_or_none():
    assert key_points("Too short.") == []
    assert key_points(OPENING) == [], "one paragraph: all of it is the opening"
    assert key_points(OPENING + "\n" + "\n".join(REST[:2])) == []
    assert len(key_points(OPENING + "\n" + "\n".join(REST[:4]))) == 1


def test_sentences_are_split_by_paragraph_and_length():
    assert split_sentences("Short.\nThis sentence has enough words to count. Tiny one.") == [
        "This sentence has enough words to count."
    ]


def test_bench_prints_the_summary_line():
    """bench/summary.py over the corpus texts: points add to the opening and cover more than lead-3."""
    corpus_path("extraction", "scrapinghub-aeb")
    output = subprocess.run(
        [sys.executable, "bench/summary.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    last = output.strip().splitlines()[-1]
    assert last.startswith("summary lead_share=")
    figures = dict(part.split("=") for part in last.split("  ")[0].split()[1:])
    assert float(figures["lead_share"]) <= 0.05
    assert float(figures["coverage"]) >= float(figures["lead3_coverage"])
