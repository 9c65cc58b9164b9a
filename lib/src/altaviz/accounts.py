"""Local dashboard accounts in the PostgreSQL serving database (``altaviz users …``).

Passwords are hashed with scrypt (RFC 7914) from the standard library and stored as a PHC string,
``$scrypt$ln=17,r=8,p=1$<salt>$<hash>`` (standard base64, no padding; 16-byte salt, 32-byte hash).
The dashboard verifies the same string with Node's built-in ``crypto.scrypt``
(``frontend/app/lib/auth/password.ts``), so neither side needs a native add-on.
N = 2^17, r = 8, p = 1 is OWASP's minimum for scrypt (128 MiB and about half a second per hash).

In Azure the dashboard signs people in with Microsoft Entra ID instead; local accounts live only
in a PostgreSQL serving database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROLES = ("viewer", "operator")
LOG2_N, R, P = 17, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
# scrypt needs 128 * N * r bytes; OpenSSL refuses above its 32 MiB default unless told.
_MAXMEM = 256 * 1024 * 1024
_PHC = re.compile(r"^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$")
# Account names as the dashboard accepts them: what a person types, nothing that hides in an audit trail.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MIN_PASSWORD_LENGTH = 12


class AccountError(Exception):
    """A refused account operation, with a message for the person at the terminal."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _utf8(password: str) -> bytes:
    # NFC, as the dashboard does: "é" typed as one code point or as e + accent is the same password.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.scrypt(_utf8(password), salt=salt, n=2**LOG2_N, r=R, p=P, maxmem=_MAXMEM, dklen=HASH_BYTES)
    return f"$scrypt$ln={LOG2_N},r={R},p={P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, phc: str) -> bool:
    match = _PHC.match(phc or "")
    if not match:
        return False
    ln, r, p = (int(g) for g in match.groups()[:3])
    expected = _unb64(match.group(5))
    digest = hashlib.scrypt(
        _utf8(password), salt=_unb64(match.group(4)), n=2**ln, r=r, p=p, maxmem=_MAXMEM, dklen=len(expected)
    )
    return hmac.compare_digest(digest, expected)


def generate_password() -> str:
    """20 URL-safe characters (120 random bits)."""
    return secrets.token_urlsafe(15)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            f"account name {name!r}: 1-128 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return password


def serving_database_url(home: Path | None = None) -> str:
    """The PostgreSQL the dashboard reads: DATABASE_URL, else the embedded server (started if needed)."""
    if (os.environ.get("DB_TYPE") or "postgres").lower() in ("azure_sql", "fabric_sql"):
        raise AccountError(
            "local accounts live in a PostgreSQL serving database; with Azure SQL the dashboard signs people "
            "in with Microsoft Entra ID (AUTH_ENTRA_* settings, see AZURE_FABRIC_GUIDE.md)"
        )
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from altaviz.publish.embedded import start_embedded_postgres

    # Attaches to the server the pipeline left running, or starts it.
    return start_embedded_postgres(home)


def _connect(url: str) -> psycopg.Connection:
    from altaviz.publish.postgres import ddl_text

    conn = psycopg.connect(url, autocommit=True)
    # The same idempotent DDL 05_publish applies, so `users add` works before the first run too.
    with conn.transaction():
        conn.execute(ddl_text())
    return conn


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    provider: str
    created_at: object
    last_sign_in_at: object


def add_account(url: str, name: str, role: str, password: str) -> None:
    check_name(name)
    if role not in ROLES:
        raise AccountError(f"role {role!r}: use one of {', '.join(ROLES)}")
    check_password(password)
    with _connect(url) as conn:
        inserted = conn.execute(
            "INSERT INTO accounts (account_name, role, provider, password_hash) VALUES (%s, %s, 'local', %s) "
            "ON CONFLICT (account_name) DO NOTHING RETURNING account_id",
            (name, role, hash_password(password)),
        ).fetchone()
    if inserted is None:
        raise AccountError(f"account {name!r} already exists")


def set_password(url: str, name: str, password: str) -> None:
    check_password(password)
    with _connect(url) as conn, conn.transaction():
        row = conn.execute(
            "UPDATE accounts SET password_hash = %s, updated_at = now() "
            "WHERE account_name = %s AND provider = 'local' RETURNING account_id",
            (hash_password(password), name),
        ).fetchone()
        if row is None:
            raise AccountError(f"no local account {name!r}")
        # A new password signs out every browser that knew the old one.
        conn.execute("DELETE FROM auth_sessions WHERE account_id = %s", row)


def remove_account(url: str, name: str) -> None:
    with _connect(url) as conn:
        # Sessions go with the account (ON DELETE CASCADE); the audit trail keeps the name.
        if conn.execute("DELETE FROM accounts WHERE account_name = %s", (name,)).rowcount == 0:
            raise AccountError(f"no account {name!r}")


def list_accounts(url: str) -> list[Account]:
    with _connect(url) as conn:
        rows = conn.execute(
            "SELECT account_name, role, provider, created_at, last_sign_in_at FROM accounts ORDER BY account_name"
        ).fetchall()
    return [Account(*row) for row in rows]


FIRST_OPERATOR = "operator"


def ensure_first_operator(url: str) -> str | None:
    """Creates the account ``operator`` with a generated password when the database has no account
    at all; returns that password (for the caller to show once) or None when accounts exist."""
    with _connect(url) as conn, conn.transaction():
        # Two concurrent first runs must not both create (or both print) the first account.
        conn.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
        if conn.execute("SELECT 1 FROM accounts LIMIT 1").fetchone():
            return None
        password = generate_password()
        conn.execute(
            "INSERT INTO accounts (account_name, role, provider, password_hash) VALUES (%s, 'operator', 'local', %s)",
            (FIRST_OPERATOR, hash_password(password)),
        )
        return password
