import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.tasks import async_task


class Command(BaseCommand):
    help = "Run the whole site: gunicorn and the django-q2 cluster; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, **options):
        # Fetch at once rather than at the scheduler's next minute.
        async_task("articles.tasks.poll_sources_task")
        python = sys.executable
        children = [
            subprocess.Popen([python, "manage.py", "qcluster"], cwd=settings.BASE_DIR),
            subprocess.Popen(
                [
                    python, "-m", "gunicorn", "aggregator.wsgi",
                    "--bind", f"{options['host']}:{options['port']}",
                    "--workers", str(options["web_workers"]),
                    "--access-logfile", "-", "--log-level", "warning",
                ],
                cwd=settings.BASE_DIR,
            ),
        ]
        self.stdout.write(
            self.style.SUCCESS(f"Serving on http://{options['host']}:{options['port']}/ (Ctrl-C stops)")
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        self.stdout.write("Stopped.")
