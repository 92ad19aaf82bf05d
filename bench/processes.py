"""Starting and stopping the site's processes (gunicorn, qcluster) for the benches."""

import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(command, env, log_path):
    """In a session of its own, so that stop() reaches the children it forks."""
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def stop(process):
    """SIGTERM to the main process (django-q2 stops its children in order), then the group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
