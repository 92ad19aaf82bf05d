"""Every threat class through the real pipeline, served from 127.0.0.1.

    python bench/robustness.py [--corpus ../shared/corpus] [--xss-limit N]

Prints one line per class:
    CLASS tried=N ingested=N refused=N crashed=N hung=N
"ingested" means stored (and, for xss, rendered with nothing executable);
"refused" means stopped with a recorded reason; "crashed" is an unhandled
exception (for xss: a rendered page with something executable in it); "hung"
is a run past its time bound. Uses DATABASE_URL, or a fresh SQLite file.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--xss-limit", type=int, default=None)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    workdir = tempfile.mkdtemp(prefix="lede-robustness-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("VAR_DIR", workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aggregator.settings"
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", "No directory at")  # no collectstatic needed here
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from tests.hostile import run_corpus, run_faults, run_ssrf, run_xss
    from tests.localserver import LocalServer

    settings.FETCH_TIMEOUT = 3
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"]["BACKEND"] = (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    call_command("migrate", verbosity=0)
    server, forbidden = LocalServer(), LocalServer()
    settings.FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{server.port}"]
    started = time.monotonic()
    try:
        tallies = [
            run_ssrf(server, forbidden),
            run_faults(server),
            run_corpus(server, corpus),
            run_xss(server, corpus, Client(), limit=args.xss_limit),
        ]
    finally:
        server.close()
        forbidden.close()
    for tally in tallies:
        for problem in tally.problems[:10]:
            print(f"  {tally.name}: {problem}", file=sys.stderr)
    print(f"# {time.monotonic() - started:.0f} s, database {os.environ['DATABASE_URL'].split('@')[-1]}")
    for tally in tallies:
        print(tally.line())


if __name__ == "__main__":
    main()
