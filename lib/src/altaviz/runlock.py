"""One local run at a time per state folder.

A run holds an exclusive ``flock`` on ``<home>/state/run.lock`` and writes who it is into the file.
The kernel drops the lock when the holding process ends in any way, SIGKILL included, so a lock is
never stale; the file a killed run leaves behind is only a record, which the next run reports and
overwrites. (flock is local-filesystem locking: a state folder shared over NFS is not protected.)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("altaviz.runlock")


class RunLockedError(RuntimeError):
    """Another run holds the state folder."""


def lock_path(home: Path) -> Path:
    return home / "state" / "run.lock"


@contextmanager
def exclusive_run(home: Path, run_id: str) -> Iterator[dict[str, Any] | None]:
    """Holds the state folder's run lock for the block. Yields the record a previous run left
    behind when it ended without releasing the lock (killed), else None. Raises RunLockedError,
    naming the holder, when another run is in progress."""
    path = lock_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115  (closed below, after unlocking)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(_describe_holder(_read(handle), home)) from None
        left_behind = _read(handle)
        if left_behind:
            log.warning(
                "run %s (pid %s) ended without releasing %s (killed?); its lock is cleared",
                left_behind.get("run_id"),
                left_behind.get("pid"),
                path,
            )
        _write(handle, {"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(), "since": _now()})
        try:
            yield left_behind
        finally:
            _write(handle, None)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _read(handle: Any) -> dict[str, Any] | None:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"run_id": "unknown", "pid": "unknown", "raw": text[:200]}


def _write(handle: Any, record: dict[str, Any] | None) -> None:
    handle.seek(0)
    handle.truncate()
    if record is not None:
        handle.write(json.dumps(record))
    handle.flush()


def _describe_holder(holder: dict[str, Any] | None, home: Path) -> str:
    who = (
        f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')})"
        if holder
        else "another run"
    )
    return f"{who} is using the state folder {home}; wait for it to finish, or stop it, then run again"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
