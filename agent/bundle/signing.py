"""Ed25519 keys that sign evidence bundles. The private key never leaves the agent's host."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.errors import ConfigError
from agent.private_files import create_private, replace_file

if TYPE_CHECKING:
    from agent.store.chain import SealKeys


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as an auditor compares it with what was announced."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def create_key_pair(private_path: Path) -> Ed25519PublicKey:
    """Write a new private key (mode 0600, never through a symlink) and its public key beside it
    (`.pub`: renamed into place, so a link planted there is replaced, not followed)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with create_private(private_path) as fh:
        fh.write(pem)
    replace_file(private_path.with_suffix(".pub"), public_pem(key.public_key()), mode=0o644)
    return key.public_key()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"[export] signing_key: {path} does not exist (annexa init creates it)") from None
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"[export] signing_key: {path} is not a usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"[export] signing_key: {path} is not an Ed25519 key")
    return key


def seal_keys(signing_key: str) -> SealKeys | None:
    """The configured key for sealing and checking seals, or None when there is none (then the
    chain proves only its own consistency, and `annexa verify` says so)."""
    from agent.store.chain import SealKeys

    path = Path(signing_key)
    if not path.exists():
        return None
    private = load_private_key(path)
    return SealKeys(public=private.public_key(), private=private)


def load_public_key(pem: bytes, origin: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ValueError(f"{origin} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{origin} is not an Ed25519 public key")
    return key


def signature_valid(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True
