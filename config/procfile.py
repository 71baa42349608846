"""`make run`'s process manager: honcho, stopping each process the way it expects.

Run as a script (`python config/procfile.py start -f Procfile`). Two changes to honcho:

- On Ctrl-C honcho sends SIGTERM to each process's whole group, so a Celery worker's pool
  children die at once, one of them holding the pool's queue lock, and the worker's warm
  shutdown then waits for that lock forever. Here SIGTERM goes to the command the group's
  leader (honcho's `sh -c`) runs (celery, gunicorn), which stops its own children gracefully;
  the shell exits when it does.
- honcho gives each process a PORT (5000, 5100, …), which `config/gunicorn.py` would bind on
  every interface; here a process gets PORT only when `make run` was given one, so the web
  process binds WEB_BIND (127.0.0.1:8000) as on any laptop.
- honcho kills what still runs 5 seconds later; here PROCFILE_STOP_SECONDS (30). A stop by
  Ctrl-C or SIGTERM exits 0 (honcho's 130/143 made `make` report an error for a normal stop).
"""

import errno
import os
import signal
import sys
from pathlib import Path

from honcho import command, compat, environ, manager
from honcho.command import main

_expand = environ.expand_processes


def _expand_without_port(processes, concurrency=None, env=None, quiet=None, port=None):
    given = "PORT" in os.environ
    return _expand(processes, concurrency=concurrency, env=env, quiet=quiet, port=port if given else None)


def _group_heads(pgid: int) -> list[int]:
    """The leader's children in its group (the command `sh -c` runs), or the leader when it has none."""
    heads = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid, group = int(stat.parent.name), int(fields[1]), int(fields[2])
        if group == pgid and ppid == pgid:
            heads.append(pid)
    return heads or [pgid]


def _terminate(self, pid):
    for head in _group_heads(pid) if Path("/proc").is_dir() else [pid]:
        try:
            os.kill(head, signal.SIGTERM)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ESRCH):
                raise


compat.ProcessManager.terminate = _terminate
command.environ.expand_processes = _expand_without_port
manager.KILL_WAIT = int(os.environ.get("PROCFILE_STOP_SECONDS", "30"))

if __name__ == "__main__":
    try:
        main()
    except SystemExit as stop:
        sys.exit(0 if stop.code in (130, 143) else stop.code)
