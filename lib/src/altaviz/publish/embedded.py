"""The local default serving database: a real PostgreSQL 16 from the ``pgserver`` wheel.

It keeps running after the pipeline exits (so the dashboard can read it) and writes how to reach
it to ``<ALTAVIZ_HOME>/state/database.json``, which the dashboard reads.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from altaviz import runtime

log = logging.getLogger("altaviz.publish")


def state_file(home: Path | None = None) -> Path:
    return (home or runtime.state_home()) / "state" / "database.json"


def _pgserver() -> Any:
    """pgserver, imported quietly: at import it asks platformdirs for a runtime folder, which warns
    when XDG_RUNTIME_DIR is unset (containers, CI) before falling back to /tmp, as it should."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pgserver
        import pgserver._commands

    return pgserver


def start_embedded_postgres(home: Path | None = None) -> str:
    """Starts (or attaches to) the embedded server under ``<home>/pgdata``; returns its URL."""
    pgserver = _pgserver()
    home = home or runtime.state_home()
    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    url = server.get_uri()
    parsed = urlparse(url)
    socket_dir = parse_qs(parsed.query).get("host", [None])[0]
    info = {
        "url": url,
        "host": socket_dir or parsed.hostname,
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "database": parsed.path.lstrip("/") or "postgres",
        "pgdata": str(pgdata),
    }
    path = state_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log.info("embedded PostgreSQL ready at %s (details in %s)", url, path)
    return url


def stop_embedded_postgres(home: Path | None = None) -> bool:
    """Stops the embedded server if it runs; True when one was stopped."""
    pg_ctl = _pgserver()._commands.pg_ctl
    pgdata = (home or runtime.state_home()) / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    user = "pgserver" if _running_as_root() else None
    pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
