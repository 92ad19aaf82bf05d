"""`make demo` smoke: the real processes (gunicorn, qcluster, demo web) on free ports."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_LINK = re.compile(r'href="(/articles/[^"/]+/)"')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


@pytest.mark.slow
def test_make_demo_fills_the_site(tmp_path):
    port, demo_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{demo_port}",
        "PORT": str(port),
        "VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"], ["setup_schedules"]):
        subprocess.run(manage + step, cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(tmp_path / "serve.log", "w")
    serve = subprocess.Popen(
        [sys.executable, "-m", "demo.run", "--demo-port", str(demo_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    home = f"http://127.0.0.1:{port}/"
    try:
        links, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                page = get(home)
                links = sorted(set(ARTICLE_LINK.findall(page)))
                # The first page holds 24; 20 on it means the site is full.
                if len(links) >= 20 and re.search(r">\d sources</a>", page):
                    break
            except OSError:
                pass
            time.sleep(2)
        assert len(links) >= 20, (tmp_path / "serve.log").read_text()[-3000:]
        # Stories covered by several outlets show once, with their source count.
        assert re.search(r">\d sources</a>", page), "no multi-source story on the homepage"
        # Every article page: related coverage as cards, at least four (#18).
        for path in links:
            page = get(home.rstrip("/") + path)
            assert "Read the original" in page
            assert "Related articles" in page
            assert page.count('class="related-card"') >= 4, path
        # The scheduled task tells what each source of a demo story adds.
        # (Stories still change while the last articles are related: the
        # homepage's are read again each round.)
        deadline, stories, pages = time.monotonic() + 90, [], []
        while time.monotonic() < deadline:
            stories = sorted(set(re.findall(r'href="(/stories/\d+/)"', get(home))))
            try:
                pages = [get(home.rstrip("/") + path) for path in stories]
            except OSError:  # a story merged into another meanwhile: 404
                pages = []
            if pages and all("What each source adds" in page and " adds:" in page for page in pages):
                break
            time.sleep(3)
        assert pages and all("What each source adds" in page for page in pages), stories
        assert all("First report:" in page for page in pages)
        # Lead images come from our own host, resized by the image task.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page = get(home)
            if re.search(r'src="/media/images/[0-9a-f/]+-thumb\.webp"', page):
                break
            time.sleep(3)
        assert re.search(r'src="/media/images/[0-9a-f/]+-thumb\.webp"', page), (
            (tmp_path / "serve.log").read_text()[-3000:]
        )
        assert f"127.0.0.1:{demo_port}" not in page
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
    assert serve.returncode == 0
