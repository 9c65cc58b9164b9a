"""Local dashboard accounts: the scrypt PHC format both the CLI and the dashboard use, and
`altaviz users …` against a real (embedded) PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from altaviz import accounts

REPO = Path(__file__).resolve().parents[1]


def test_hash_is_a_phc_scrypt_string_that_verifies_only_its_password():
    phc = accounts.hash_password("correct horse battery")
    assert phc.startswith("$scrypt$ln=17,r=8,p=1$")
    salt, digest = phc.split("$")[-2:]
    assert len(base64.b64decode(salt + "==")) == 16 and len(base64.b64decode(digest + "=")) == 32
    assert "=" not in salt + digest  # no base64 padding
    assert accounts.verify_password("correct horse battery", phc)
    assert not accounts.verify_password("correct horse batterY", phc)
    assert accounts.hash_password("correct horse battery") != phc  # fresh salt each time
    assert not accounts.verify_password("x", "") and not accounts.verify_password("x", "$2b$12$bcrypt")
    composed = accounts.hash_password("caf\u00e9 au lait 12")
    assert accounts.verify_password("cafe\u0301 au lait 12", composed)  # NFC, as the dashboard normalises


def test_verify_reads_the_parameters_from_the_string_rfc_7914_vector():
    # RFC 7914 section 12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, dkLen=64).
    expected = bytes.fromhex(
        "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
        "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
    )
    salt = base64.b64encode(b"SodiumChloride").decode().rstrip("=")
    phc = f"$scrypt$ln=14,r=8,p=1${salt}${base64.b64encode(expected).decode().rstrip('=')}"
    assert accounts.verify_password("pleaseletmein", phc)
    assert hashlib.scrypt(b"pleaseletmein", salt=b"SodiumChloride", n=16384, r=8, p=1, dklen=64) == expected


def test_names_and_passwords_are_checked():
    for bad in ("", " admin", "a b", "x" * 129, "bell\u0007", "-lead"):
        with pytest.raises(accounts.AccountError):
            accounts.check_name(bad)
    assert accounts.check_name("jane.doe@contoso.com")
    with pytest.raises(accounts.AccountError, match="at least 12"):
        accounts.check_password("short")
    assert len(accounts.generate_password()) == 20


@pytest.fixture(scope="module")
def pg_home(tmp_path_factory):
    from altaviz.publish.embedded import start_embedded_postgres, stop_embedded_postgres

    home = tmp_path_factory.mktemp("accounts-home")
    url = start_embedded_postgres(home)
    yield home, url
    stop_embedded_postgres(home)


def test_accounts_in_postgres(pg_home, monkeypatch):
    _, url = pg_home
    monkeypatch.delenv("DB_TYPE", raising=False)
    first = accounts.ensure_first_operator(url)
    assert first and len(first) == 20
    assert accounts.ensure_first_operator(url) is None  # only ever once
    accounts.add_account(url, "vic.viewer", "viewer", "viewer-password-1")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.add_account(url, "vic.viewer", "operator", "another-password")
    with pytest.raises(accounts.AccountError, match="role"):
        accounts.add_account(url, "root", "admin", "another-password")
    listed = {a.name: a.role for a in accounts.list_accounts(url)}
    assert listed == {"operator": "operator", "vic.viewer": "viewer"}
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute("SELECT account_name, password_hash FROM accounts").fetchall())
        assert accounts.verify_password(first, stored["operator"])
        assert first not in stored["operator"]
        account_id = conn.execute("SELECT account_id FROM accounts WHERE account_name = 'vic.viewer'").fetchone()[0]
        conn.execute(
            "INSERT INTO auth_sessions (session_hash, account_id, csrf_token, expires_at) "
            "VALUES (%s, %s, 'c', now() + interval '1 hour')",
            ("a" * 64, account_id),
        )
    accounts.set_password(url, "vic.viewer", "a-new-password-2")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM auth_sessions").fetchone()[0] == 0  # signed out
    accounts.remove_account(url, "vic.viewer")
    with pytest.raises(accounts.AccountError, match="no account"):
        accounts.remove_account(url, "vic.viewer")


def test_cli_adds_an_account_from_stdin_and_refuses_azure_sql(pg_home):
    home, url = pg_home
    env = {**os.environ, "ALTAVIZ_HOME": str(home), "DATABASE_URL": "", "COLUMNS": "200"}
    cli = [sys.executable, "-m", "altaviz.cli", "users"]
    added = subprocess.run(
        [*cli, "add", "olga", "--role", "operator", "--password-stdin"],
        input="olga-password-123\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert "olga-password-123" not in added.stdout + added.stderr
    generated = subprocess.run(
        [*cli, "add", "gus", "--generate"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    password = generated.stdout.split("shown only this once):")[1].split()[0]
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute("SELECT account_name, password_hash FROM accounts").fetchall())
        roles = dict(conn.execute("SELECT account_name, role FROM accounts").fetchall())
    assert accounts.verify_password("olga-password-123", rows["olga"]) and roles["olga"] == "operator"
    assert accounts.verify_password(password, rows["gus"]) and roles["gus"] == "viewer"
    short = subprocess.run(
        [*cli, "add", "tim", "--password-stdin"], input="short\n", capture_output=True, text=True, env=env, cwd=REPO
    )
    assert short.returncode == 1 and "at least 12" in short.stdout
    azure = subprocess.run(
        [*cli, "list"], capture_output=True, text=True, env={**env, "DB_TYPE": "azure_sql"}, cwd=REPO, timeout=120
    )
    assert azure.returncode == 1 and "Entra ID" in azure.stdout
