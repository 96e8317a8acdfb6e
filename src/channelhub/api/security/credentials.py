"""Secrets: API token format, digests, password hashing.

An API token reads `chub_<token id>_<secret>`. The token id is public (listings, revocation);
only the SHA-256 digest of the secret is stored. A digest (not a slow hash) is enough because
the secret is 256 random bits: there is nothing to brute-force. Passwords are chosen by people,
so they get scrypt with a per-user salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "chub"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, slots=True)
class PresentedToken:
    token_id: str
    secret: str


def new_token() -> tuple[str, str, str]:
    """(token id, secret, the full token to hand out once)."""
    token_id = secrets.token_hex(6)
    # Hex, not base64: the secret never holds the "_" that separates the token's parts.
    secret = secrets.token_hex(32)
    return token_id, secret, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def split_token(presented: str) -> PresentedToken | None:
    """The parts of a presented token, None when it is not shaped like one of ours."""
    prefix, _, rest = presented.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not token_id or not secret or len(token_id) > 32:
        return None
    return PresentedToken(token_id, secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored_digest: str) -> bool:
    # Constant time: the comparison does not leak how much of the digest matched.
    return hmac.compare_digest(digest(secret), stored_digest)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    encode = base64.urlsafe_b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encode(salt).decode()}${encode(derived).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = hashlib.scrypt(
            password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.urlsafe_b64decode(expected))


# A well-formed hash of nothing: checking an unknown user's password costs as much as a known
# user's, so response times do not reveal which usernames exist.
DECOY_PASSWORD_HASH = hash_password("decoy-password-never-matches")
