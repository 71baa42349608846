"""The folder prometheus-client's multiprocess mode shares between this machine's processes.

Every web worker and Celery worker process writes its metrics into files under
`PROMETHEUS_MULTIPROC_DIR` (default `var/prometheus`); `/metrics` merges them. The folder
must be set before prometheus-client is imported, so `config/settings.py` sets the
default. At start (gunicorn's master, Celery's main process) the files of processes that
no longer exist are removed, so a restart starts from zero, as Prometheus expects of a
restarted process; a worker that exits leaves its live gauges (`mark_dead`).

No Django here: gunicorn's master imports it before the application.
"""

import glob
import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "var" / "prometheus"


def folder() -> Path:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not path:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(DEFAULT)
        path = str(DEFAULT)
    return Path(path)


def prepare() -> Path:
    """Create the folder and drop the files of processes that are gone."""
    path = folder()
    path.mkdir(parents=True, exist_ok=True)
    for file in glob.glob(str(path / "*.db")):
        pid = Path(file).stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.remove(file)
            except FileNotFoundError:
                pass
    return path


def mark_dead(pid: int) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(folder()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
