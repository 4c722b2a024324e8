"""Crafting bundles as an attacker would: rewrite members, then re-sign the manifest with a key."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from agent.bundle.signing import fingerprint, load_private_key


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(dst: Path, items: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(dst, "w", compression=compression) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return dst


def forge(
    src: Path,
    dst: Path,
    key: Path,
    change: dict[str, Callable[[bytes], bytes]],
    declare: Callable[[dict], None] = lambda files: None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Change members, record their new hashes and sizes in the manifest (then let `declare` edit
    its file list), leave out the members in `drop` (from the zip and the manifest), put `key`'s
    public half in and sign the manifest with `key`: what that key's holder can do."""
    private = load_private_key(key)
    items = members(src)
    items["public_key.pem"] = key.with_suffix(".pub").read_bytes()
    for name, fn in change.items():
        items[name] = fn(items[name])
    for name in drop:
        del items[name]
    manifest = json.loads(items["manifest.json"])
    manifest["files"] = [f for f in manifest["files"] if f["path"] not in drop]
    for entry in manifest["files"]:
        data = items[entry["path"]]
        entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
    declare({f["path"]: f for f in manifest["files"]})
    manifest["signer"]["fingerprint"] = fingerprint(private.public_key())
    items["manifest.json"] = json.dumps(manifest).encode()
    items["manifest.sig"] = private.sign(items["manifest.json"])
    return write(dst, items)
