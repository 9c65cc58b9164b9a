"""Secrets stay out of logs, executed notebooks and the repository.

A real `altaviz run` on a fresh state folder, with a canary password in DATABASE_URL, creates the
first dashboard operator and prints its password once on the terminal; `altaviz users add` stores
another. Neither password, nor the canary, nor a password hash may appear anywhere in the run
folder (executed notebooks, run.log), the state folder or the PostgreSQL log; and no tracked file
of the repository may hold them or anything shaped like a real password hash or private key.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
FIRST = re.compile(r"account operator \(operator\), password (\S+)")
# What a committed secret looks like: a real scrypt PHC hash, a private key, a connection string password.
SECRET_SHAPES = [
    re.compile(rb"\$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{32,}"),
    re.compile(rb"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(rb"postgres(?:ql)?://[^:/@\s'\"]+:[^@\s'\"<>{}$]{6,}@"),
]


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    netloc = f"{user}:{password}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small pipeline run on a fresh state folder; yields (home, stdout, secrets)."""
    from altaviz.publish.embedded import start_embedded_postgres, stop_embedded_postgres

    home = tmp_path_factory.mktemp("secrets-home")
    # The embedded server trusts its Unix socket, so the canary password is carried everywhere
    # DATABASE_URL goes (kernel environment, notebooks, logs) without being needed to connect.
    canary = "canary-" + secrets.token_hex(12)
    url = _with_password(start_embedded_postgres(home), canary)
    env = {**os.environ, "ALTAVIZ_HOME": str(home), "DATABASE_URL": url, "COLUMNS": "200"}
    env.pop("DB_TYPE", None)
    cli = [sys.executable, "-m", "altaviz.cli"]
    proc = subprocess.run(
        [*cli, "run", "-p", "days=2", "-p", "run_date=2026-11-20"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    added_password = "stdin-" + secrets.token_hex(12)
    added = subprocess.run(
        [*cli, "users", "add", "scan.operator", "--role", "operator", "--password-stdin"],
        cwd=REPO,
        env=env,
        input=added_password + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    match = FIRST.search(proc.stdout)
    assert match, f"the first run printed no first operator account:\n{proc.stdout[-2000:]}"
    with psycopg.connect(url) as conn:
        hashes = [h for (h,) in conn.execute("SELECT password_hash FROM accounts WHERE password_hash IS NOT NULL")]
    yield home, proc.stdout + added.stdout, [match.group(1), added_password, canary, *hashes]
    stop_embedded_postgres(home)


def _hits(path: Path, needles: list[str]) -> list[str]:
    data = path.read_bytes()
    return [n[:12] + "…" for n in needles if n.encode() in data]


def test_the_first_operator_password_is_printed_once_and_the_added_one_never(run):
    _, stdout, (first, added, canary, *_) = run
    assert stdout.count(first) == 1
    assert added not in stdout and canary not in stdout


def test_no_secret_in_run_folders_logs_notebooks_or_state(run):
    home, _, needles = run
    assert len(needles) >= 5  # two passwords, the canary, two hashes
    run_dirs = list((home / "runs").iterdir())
    assert run_dirs and any(d.glob("*.ipynb") for d in run_dirs) and any((d / "run.log").exists() for d in run_dirs)
    scanned, found = 0, {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home)
        # The database's own data files hold the hashes by design; its server log is scanned.
        if not path.is_file() or (rel.parts[0] == "pgdata" and "log" not in rel.parts):
            continue
        scanned += 1
        if hits := _hits(path, needles):
            found[str(rel)] = hits
    assert scanned > 20
    assert found == {}, f"secrets written to {found}"


def test_no_secret_in_tracked_files(run):
    _, _, needles = run
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    found = {}
    for name in filter(None, tracked.decode().split("\0")):
        path = REPO / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        hits = [n[:12] for n in needles if n.encode() in data]
        hits += [p.pattern.decode()[:30] for p in SECRET_SHAPES if p.search(data)]
        if hits:
            found[name] = hits
    assert found == {}, f"secret-looking values committed: {found}"


def test_the_scanner_sees_a_planted_secret(run, tmp_path):
    _, _, needles = run
    planted = tmp_path / "notebook.ipynb"
    planted.write_text(f'{{"outputs": ["connecting with {needles[2]}"]}}')
    assert _hits(planted, needles) == [needles[2][:12] + "…"]
    assert SECRET_SHAPES[0].search(needles[-1].encode())
    # Assembled here so that this file itself does not hold a connection string with a password.
    assert SECRET_SHAPES[2].search(b"DATABASE_URL=postgresql://app:" + b"hunter2hunter2" + b"@db.example.com/altaviz")
