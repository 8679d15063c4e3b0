"""Secrets handling: bearer tokens, at-rest encryption, masking for logs and responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return secrets.token_hex(16)


def token_digest(token: str, secret_key: str) -> str:
    """What the database stores instead of the token (64 hex chars): a leaked table opens nothing."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


class DataCipher:
    """Authenticated encryption (Fernet) for small values kept at rest, e.g. WeChat's session_key."""

    def __init__(self, data_key: str) -> None:
        derived = hashlib.sha256(data_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


def mask_phone(phone: str | None) -> str | None:
    """138****5678: enough for a purchaser to recognise the number, useless to a scraper."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_address(address: str | None) -> str | None:
    """Keep the region (first 6 characters), hide the street and number."""
    if not address:
        return address
    keep = min(6, max(len(address) // 3, 1))
    return address[:keep] + "****"


def mask_secret(value: str | None) -> str:
    if not value:
        return ""
    return value[:2] + "***" if len(value) > 6 else "***"
