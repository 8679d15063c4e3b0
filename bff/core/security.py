"""Secrets handling: bearer tokens, at-rest encryption, masking for logs and responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return secrets.token_hex(16)


def token_digest(token: str, secret_key: str) -> str:
    """What the database stores instead of the token (64 hex chars): a leaked table opens nothing."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SecretKeys:
    """The HMAC key of session tokens and invite codes (``BFF_SECRET_KEY``) and, while a rotation
    is under way, the key before it (``BFF_SECRET_KEY_PREVIOUS``): digests are made with the
    current key; one made with the previous key is still recognised, and re-made with the current."""

    current: str
    previous: str = ""

    def digest(self, value: str) -> str:
        return token_digest(value, self.current)

    def earlier_digest(self, value: str) -> str | None:
        return token_digest(value, self.previous) if self.previous else None


def _fernet(data_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(data_key.encode()).digest()))


class DataCipher:
    """Authenticated encryption (Fernet) for small values kept at rest, e.g. WeChat's session_key.
    With a ``previous`` key (``BFF_DATA_KEY_PREVIOUS``, a rotation under way): encrypts with the
    current key, decrypts what either made (cryptography's MultiFernet)."""

    def __init__(self, data_key: str, previous: str = "") -> None:
        self._fernet = MultiFernet([_fernet(key) for key in (data_key, previous) if key])

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


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), expected.encode())


def parse_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``10.0.0.0/8, 192.168.1.5`` → networks (empty spec: empty list)."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()]


def from_wechat_platform(
    headers: dict[str, str], client_ip: str, *, appid: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    """Does this request carry WeChat Cloud Run's trusted headers for *our* mini program?

    The platform sets ``X-WX-SOURCE`` and ``X-WX-APPID`` on every ``callContainer`` request;
    without them (or with another appid, or from outside the allowed sources when an
    allow-list is configured) ``X-WX-OPENID`` is forged input.
    """
    if not headers.get("x-wx-source") or not headers.get("x-wx-openid"):
        return False
    if not same_secret(headers.get("x-wx-appid"), appid):
        return False
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_key(client_ip: str) -> str:
    """What per-address limits count by: an IPv4 address, or an IPv6 address's /64 (one
    subscriber's whole prefix: keyed per /128, one line holds 2**64 keys)."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
