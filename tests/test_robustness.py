"""Every feed of the robustness corpus through the real fetch-and-parse path."""

import pytest

from tests.hostile import run_corpus, run_faults
from tests.corpus import corpus_path

pytestmark = pytest.mark.django_db


def test_robustness_corpus_never_crashes_or_hangs(local_server, settings):
    corpus = corpus_path("feeds-robustness").parent
    settings.FETCH_TIMEOUT = 5
    tally = run_corpus(local_server, corpus)
    print("\n" + tally.line())
    assert tally.counts["tried"] > 2000
    assert tally.counts["crashed"] == 0, tally.problems[:10]
    assert tally.counts["hung"] == 0, tally.problems[:10]
    assert tally.counts["ingested"] + tally.counts["refused"] == tally.counts["tried"]


def test_fault_servers_are_all_refused_with_reasons(local_server, settings):
    settings.FETCH_TIMEOUT = 2
    tally = run_faults(local_server)
    print("\n" + tally.line())
    assert tally.counts["refused"] == tally.counts["tried"] == 12, tally.problems
