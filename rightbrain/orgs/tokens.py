"""Secrets: generated here, shown once, stored as a digest or encrypted.

Digests serve secrets we only need to recognise (API keys, invitation tokens).
Encryption serves the few we must show again (a task's access token to its
editors, a forwarder's signing key to the delivery worker).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_ALPHABET = string.ascii_letters + string.digits


def new_token(prefix: str = "", length: int = 40) -> str:
    """A random base62 secret, e.g. `rbk_` + 40 characters (≈238 bits)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_token(token: str) -> str:
    # Tokens are long random values, so a fast unsalted digest is enough: there
    # is nothing to brute-force that a slow hash would protect.
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet() -> Fernet:
    # RB_ENCRYPTION_KEY lets operators rotate SECRET_KEY without losing stored
    # secrets; by default the key is derived from SECRET_KEY.
    return _fernet_for(settings.RB_ENCRYPTION_KEY or settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _fernet_for(material: str) -> Fernet:
    # Task lists decrypt a token per task: build the cipher once per key.
    key = hashlib.sha256(("rightbrain-secrets:" + material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_secret(value: str) -> str | None:
    """The plain secret, or None when it was encrypted under another key."""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return None
