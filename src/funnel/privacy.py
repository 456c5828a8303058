"""Pseudonyms: the published marts hold no e-mail address, only a keyed hash of it.

The key comes from the environment (FUNNEL_PSEUDONYM_KEY), or, where that is not set, from a
random key the pipeline creates once in its private work folder. It never comes from the
repository, so a list of known addresses cannot be hashed to re-identify people without it.
Raw addresses stay in the raw, staging and intermediate layers of the work database.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

ENV_KEY = "FUNNEL_PSEUDONYM_KEY"


def pseudonym_key(work_folder: Path) -> str:
    """The key: from the environment, else the work folder's own (created on first use)."""
    if os.environ.get(ENV_KEY):
        return os.environ[ENV_KEY]
    path = work_folder / "pseudonym.key"
    if not path.exists():
        work_folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def pseudonym(value: str, key: str) -> str:
    """What the marts show for an e-mail address (the same as sql: `em_` + keyed sha256)."""
    return "em_" + hashlib.sha256(f"{key}:{value}".encode()).hexdigest()[:32]


def customer_id(anchor: str, key: str) -> str:
    """A customer's id from its anchor identifier ('type:value'), keyed like the pseudonyms."""
    return "cus_" + hashlib.sha256(f"{key}:{anchor}".encode()).hexdigest()[:16]
