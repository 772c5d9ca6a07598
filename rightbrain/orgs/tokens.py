"""Secrets that are shown once and stored only as a digest."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a fast unsalted digest is enough: there
    # is nothing to brute-force that a slow hash would protect.
    return hashlib.sha256(token.encode()).hexdigest()
