"""Keyed pseudonyms for what the audit log must match but not show: the phone number of a subject-access
request and the name typed at a failed login. HMAC-SHA256 with a secret that lives outside the database, so
that someone who holds the log cannot find the value by hashing every candidate (there are only ~10^8 Dutch
mobile numbers). docs/privacy.md explains the choices."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from app.core.settings import MissingSecretError, Settings

PSEUDONYM_HEX_DIGITS = 32  # 128 bits: no two values in the log share one by chance
DEVELOPMENT_KEY_FILE = "audit_pseudonym.key"


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_DIGITS]


def audit_key(settings: Settings) -> bytes:
    """`audit_pseudonym_key`; production starts only with it set (`Settings.check_production_secrets`). Any
    other environment without it uses a key generated once under `data_dir`, which every process and command
    on that data directory shares."""
    if settings.audit_pseudonym_key is not None and settings.audit_pseudonym_key.get_secret_value():
        return settings.audit_pseudonym_key.get_secret_value().encode()
    if settings.environment == "production":
        raise MissingSecretError(["audit_pseudonym_key"])
    return _stored_key(settings.data_dir.resolve() / DEVELOPMENT_KEY_FILE)


@lru_cache
def _stored_key(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> None:
    """Written aside and linked into place, so that two processes starting at once agree on one key and
    neither reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first: its key is the one
    finally:
        draft.unlink(missing_ok=True)
