"""Starting and stopping the site's processes (gunicorn, qcluster) for the benches,
and reading what they and the servers they use cost (Linux's /proc)."""

import os
import signal
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def descendants(root):
    children = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_kinds(database, own_backend):
    """{pid: kind} of the servers the pipeline uses: PostgreSQL's backends of `database`
    (but the bench's own, which polls), the PostgreSQL server's own processes, and Redis."""
    kinds = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres: "):
                if int(entry) == own_backend:
                    kinds[int(entry)] = "bench-postgres"
                elif f" {database} " in title:
                    kinds[int(entry)] = "postgres"
                elif "(" not in title:  # checkpointer, WAL writer: shared, but serve this run
                    kinds[int(entry)] = "postgres-server"
            elif title.startswith("redis-server"):  # broker and cache (shared with others here)
                kinds[int(entry)] = "redis"
    return kinds
