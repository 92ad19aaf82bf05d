"""OPML imported in the background from the admin: linear time, progress shown."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from articles import opml
from articles.models import Source, SourceImport
from articles.tasks import import_sources_task

pytestmark = pytest.mark.django_db


def opml_of(count, title="Daily News"):
    outlines = "".join(
        f'<outline text="{title}" xmlUrl="https://news-{n}.example/feed.xml" category="World"/>'
        for n in range(count)
    )
    return f"<opml version='2.0'><body>{outlines}</body></opml>".encode()


def test_ten_thousand_outlines_import_in_linear_time(django_assert_max_num_queries):
    """10,000 outlines titled alike, in chunks: a bounded number of statements
    for each chunk (no query per slug tried), first fetches spread out."""
    source_import = SourceImport.objects.create(file_name="big.opml", content=opml_of(10_000))
    started = time.monotonic()
    chunks = 10_000 // opml.IMPORT_CHUNK
    # Each chunk: categories, the URLs known, the slugs taken, the insert
    # (SQLite splits it at its parameter limit) and the progress saved.
    per_chunk = 10 if connection.vendor == "postgresql" else 40
    with django_assert_max_num_queries(10 + per_chunk * chunks):
        import_sources_task(source_import.pk)
    elapsed = time.monotonic() - started
    source_import.refresh_from_db()
    assert source_import.status == SourceImport.Status.DONE
    assert (source_import.created, source_import.skipped) == (10_000, 0)
    assert source_import.handled == source_import.outlines == 10_000
    assert source_import.content == b""  # the file is not kept once imported
    # Generous for a loaded machine (about 20 s alone); the quadratic import
    # took 161 s for a tenth of this.
    assert elapsed < 120, elapsed
    assert Source.objects.filter(slug="daily-news-10000").exists()
    due = sorted(Source.objects.values_list("next_fetch_at", flat=True))
    assert due[opml.IMPORT_AT_ONCE - 1] - due[0] < opml.IMPORT_DUE_EVERY
    spread = due[-1] - due[0]
    expected = (10_000 - 1 - opml.IMPORT_AT_ONCE) * opml.IMPORT_DUE_EVERY
    # Each chunk counts from its own start: later ones drift by the time taken.
    assert expected <= spread <= expected + timedelta(seconds=elapsed)
    print(f"\nimport of 10,000 outlines: {elapsed:.1f} s")


def test_admin_upload_runs_in_the_background_and_shows_progress(admin_client, monkeypatch):
    queued = []
    monkeypatch.setattr("articles.admin.async_task", lambda *args, **kwargs: queued.append(args))
    response = admin_client.post(
        reverse("admin:articles_source_import_opml"),
        {"file": SimpleUploadedFile("feeds.opml", opml_of(3))},
    )
    source_import = SourceImport.objects.get()
    assert response.url == reverse("admin:articles_source_import_status", args=[source_import.pk])
    assert queued == [("articles.tasks.import_sources_task", source_import.pk)]
    assert not Source.objects.exists()  # nothing imported in the request
    page = admin_client.get(response.url).content.decode()
    assert "Queued" in page and 'http-equiv="refresh"' in page

    import_sources_task(source_import.pk)
    page = admin_client.get(response.url).content.decode()
    assert "Imported 3 new source(s); 0 were already here." in page
    assert 'http-equiv="refresh"' not in page
    listing = admin_client.get(reverse("admin:articles_sourceimport_changelist"))
    assert listing.status_code == 200 and "feeds.opml" in listing.content.decode()


def test_a_broken_file_is_a_form_error_and_queues_nothing(admin_client):
    response = admin_client.post(
        reverse("admin:articles_source_import_opml"),
        {"file": SimpleUploadedFile("bad.opml", b"<html>")},
    )
    assert response.status_code == 200 and "Not" in response.content.decode()
    assert not SourceImport.objects.exists()


def test_a_failed_import_says_why():
    source_import = SourceImport.objects.create(content=b"<opml><body>")
    import_sources_task(source_import.pk)
    source_import.refresh_from_db()
    assert source_import.status == SourceImport.Status.FAILED
    assert "Not a valid OPML file" in source_import.error
