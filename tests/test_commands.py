import io

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article, Source
from tests.factories import make_source
from tests.factories import serve_small_feed


@pytest.mark.django_db
def test_ingest_command_runs_a_full_pass(local_server):
    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", source.slug, stdout=out, stderr=err)
    assert Article.objects.filter(state=Article.State.READY).count() == 3
    assert "sources fetched=1 (failed 0), new articles=3, extracted=3, failed=0" in out.getvalue()
    assert "Extracting" in err.getvalue()  # the progress bar


@pytest.mark.django_db
def test_ingest_command_rejects_unknown_source():
    with pytest.raises(CommandError):
        call_command("ingest", "no-such-source")


@pytest.mark.django_db
def test_add_source_names_it_after_the_feed(local_server):
    feed_url = serve_small_feed(local_server, count=1)
    call_command("add_source", feed_url, "--category", "Local", stdout=io.StringIO())
    source = Source.objects.get(feed_url=feed_url)
    assert source.name == "Small"
    assert source.category.name == "Local"
    assert source in Source.objects.due()
    with pytest.raises(CommandError):
        call_command("add_source", feed_url)
    with pytest.raises(CommandError):
        call_command("add_source", "file:///etc/passwd")


@pytest.mark.django_db
def test_opml_round_trip(tmp_path):
    opml = tmp_path / "sources.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="2.0"><head/><body>
        <outline text="Tech"><outline type="rss" text="Feed A" xmlUrl="https://a.example/rss"/>
        <outline type="rss" text="Feed B" xmlUrl="https://b.example/rss" htmlUrl="https://b.example/"/>
        </outline><outline text="Bad" xmlUrl="javascript:alert(1)"/></body></opml>"""
    )
    out = io.StringIO()
    call_command("import_opml", str(opml), stdout=out)
    assert "2 source(s) created" in out.getvalue()
    call_command("import_opml", str(opml), stdout=out)
    assert Source.objects.count() == 2
    assert set(Source.objects.values_list("category__name", flat=True)) == {"Tech"}
    exported = io.StringIO()
    call_command("export_opml", stdout=exported)
    assert 'xmlUrl="https://b.example/rss"' in exported.getvalue()
    assert 'category="Tech"' in exported.getvalue()


@pytest.mark.django_db
def test_default_sources_file_imports():
    call_command("import_opml", "sources/default.opml", stdout=io.StringIO())
    assert Source.objects.count() >= 15
    assert Source.objects.filter(category__name="World").exists()


@pytest.mark.django_db
def test_setup_schedules_is_idempotent():
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    poll = Schedule.objects.get(name="Poll due sources")
    assert poll.func == "articles.tasks.poll_sources_task" and poll.minutes == 1
    from articles.management.commands.setup_schedules import SCHEDULES

    assert Schedule.objects.count() == len(SCHEDULES)
    assert Schedule.objects.filter(func="articles.tasks.prune_term_index_task").exists()
    assert Schedule.objects.filter(func="articles.tasks.renew_subscriptions_task").exists()
    assert Schedule.objects.filter(func="articles.tasks.remove_expired_articles_task").exists()


@pytest.mark.slow
def test_make_superuser_works_for_the_demo_database(tmp_path):
    """`make superuser DEMO=1` creates the account in the demo's own database
    (the README's createsuperuser step failed there: no such table)."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    demo_db = tmp_path / "demo.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SUPERUSER_USERNAME": "editor",
        "DJANGO_SUPERUSER_EMAIL": "editor@example.org",
        "DJANGO_SUPERUSER_PASSWORD": "editing-news-99",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run(
        # -o setup: this interpreter's environment is already installed.
        ["make", "-s", "-o", "setup", "superuser", "DEMO=1",
         f"VENV={Path(sys.executable).parent.parent}", f"DEMO_DATABASE_URL=sqlite:///{demo_db}"],
        cwd=root, env=env, check=True, capture_output=True, timeout=300,
    )
    with sqlite3.connect(demo_db) as connection:
        rows = connection.execute("SELECT username, is_superuser FROM auth_user").fetchall()
    assert rows == [("editor", 1)]
