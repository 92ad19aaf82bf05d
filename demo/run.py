"""`make demo`: the sample news web on 127.0.0.1, its sources imported, then the whole site.

    python -m demo.run [--demo-port 8765] [serve's own options...]

The site does not know about the demo: the sources come in through the
ordinary OPML import, from the sample web's own /opml.
"""

import argparse
import signal
import subprocess
import sys
from pathlib import Path

from demo.server import base_url, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo-port", type=int, default=8765)
    options, serve_options = parser.parse_known_args(argv)
    server = serve_in_thread(options.demo_port)
    base = base_url(server)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "import_opml", f"{base}/opml", "--update"], cwd=ROOT, check=True)
    print(f"Sample news web on {base}/", flush=True)
    print("An editor's account for /admin/ here: make superuser DEMO=1", flush=True)
    # Ctrl-C reaches the whole process group: the site stops itself, this
    # waits for it. A handler, not SIG_IGN, which the site would inherit.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    site = subprocess.Popen([*manage, "serve", *serve_options], cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda signum, frame: site.send_signal(signal.SIGTERM))
    code = site.wait()
    server.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
