"""Hostile archives: every crafted bundle ends as exit 1 with the entry or file named, never a crash,
and never more memory than a small bound, however large the archive claims or inflates to be.

One real bundle (two collections, an attestation, an accepted NC, every seal signed) is built per
module; each case copies it and changes raw bytes, entries or, re-signed with the bundle's own key
so the verifier reads on past the signature, the content.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import agent.bundle.verify as verify_module
from agent.audit.attestations import attest
from agent.audit.nc_actions import Change, apply
from agent.bundle.export import export_bundle
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.streams import MAX_PROBLEMS, check_listing
from agent.bundle.verify import MAX_DOCUMENT, verify_bundle
from agent.bundle.zipsafe import MAX_DIRECTORY, MAX_LINE
from agent.run.runner import Runner
from agent.store import Store
from agent.store.hashing import tree_hash
from tests.bundles import forge, members, write
from tests.cli import ANNEXA
from tests.fakeplugin import World, build_registry, fake_system_settings

pytestmark = pytest.mark.slow

MB = 1 << 20
RSS_LIMIT = 300 * MB
_CENTRAL = b"PK\x01\x02"


@dataclass
class Signed:
    bundle: Path
    key: Path

    @property
    def public(self) -> Path:
        return self.key.with_suffix(".pub")


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> Signed:
    tmp = tmp_path_factory.mktemp("hostile")
    key = tmp / "agent.key"
    create_key_pair(key)
    settings = fake_system_settings(
        store={"url": f"sqlite:///{tmp / 'a.db'}"}, export={"signing_key": str(key)}
    )
    store = Store(settings.store.url, keys=seal_keys(str(key)))
    registry = build_registry(World())
    Runner(store, settings, registry).collect([])
    (tmp / "policy.pdf").write_bytes(b"%PDF-1.4 the information security policy")
    attest(store, "A.5.1", tmp / "policy.pdf", actor="ciso", valid_for_days=365)
    apply(store, "NC-0001", "accept", "dana", Change(reason="confirmed"))
    Runner(store, settings, registry).collect([])
    export_bundle(store, settings, registry, tmp / "audit.zip")
    store.close()
    assert verify_bundle(tmp / "audit.zip", key.with_suffix(".pub")).ok
    return Signed(tmp / "audit.zip", key)


# -- crafting -------------------------------------------------------------------------------------


def evidence(bundle: Path) -> str:
    return next(n for n in members(bundle) if n.startswith("evidence/"))


def declared_size(bundle: Path, name: str) -> int:
    files = json.loads(members(bundle)["manifest.json"])["files"]
    return next(f["size"] for f in files if f["path"] == name)


def as_json(fn: Callable[[object], object]) -> Callable[[bytes], bytes]:
    return lambda data: json.dumps(fn(json.loads(data))).encode()


def directory_record(data: bytes | bytearray, name: str) -> int:
    """Where `name`'s record starts in the central directory."""
    encoded, at = name.encode(), len(data)
    while (at := data.rfind(_CENTRAL, 0, at)) >= 0:
        (length,) = struct.unpack_from("<H", data, at + 28)
        if length == len(encoded) and data[at + 46 : at + 46 + length] == encoded:
            return at
    raise AssertionError(f"{name} is not in the central directory")


def patch(src: Path, dst: Path, name: str, edit: Callable[[bytearray, int], None]) -> Path:
    """Copy the archive, letting `edit` change bytes of `name`'s central directory record."""
    data = bytearray(src.read_bytes())
    edit(data, directory_record(data, name))
    dst.write_bytes(bytes(data))
    return dst


def with_spaces(src: Path, dst: Path, name: str, size: int) -> Path:
    """The archive with `name` replaced by `size` bytes of spaces, deflated (to ~1/1000 of that)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != name:
                zout.writestr(item.filename, zin.read(item.filename))
        with zout.open(name, "w", force_zip64=True) as fh:
            for _ in range(size // MB):
                fh.write(b" " * MB)
    return dst


# -- running the verifier -------------------------------------------------------------------------


@dataclass
class Verified:
    code: int
    stdout: str
    stderr: str
    peak_rss: int

    @property
    def failures(self) -> list[str]:
        return [line.removeprefix("FAIL ") for line in self.stdout.splitlines() if line.startswith("FAIL ")]


# A child's peak RSS starts from that of the process that started it (Linux carries the high-water
# mark across fork and exec), so the command is started by a small wrapper that reports it.
_PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def annexa_verify(bundle: Path, *args: str) -> Verified:
    """`annexa verify` as an auditor runs it, with its peak RSS (in KB on Linux)."""
    rss = bundle.with_suffix(".rss")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(rss), ANNEXA, "verify", str(bundle), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return Verified(proc.returncode, proc.stdout, proc.stderr, int(rss.read_text()) * 1024)


def refused(bundle: Path, problem: str, *args: str) -> Verified:
    """Exit 1, nothing on stderr, and exactly one FAIL line: `problem`."""
    run = annexa_verify(bundle, *args)
    assert (run.code, run.stderr, run.failures) == (1, "", [problem]), run
    return run


def problems(bundle: Path, signed: Signed) -> list[str]:
    return verify_bundle(bundle, signed.public).problems


# -- the archive ----------------------------------------------------------------------------------


def test_a_duplicate_entry_name_is_named(signed, tmp_path):
    dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(signed.bundle) as zin, zipfile.ZipFile(dup, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zout.writestr("runs.json", b"[]")
    refused(dup, "entry 'runs.json' appears twice")


def test_a_directory_name_that_differs_from_the_local_header_is_named(signed, tmp_path):
    def rename(data: bytearray, at: int) -> None:
        data[at + 46 : at + 46 + len("soa.csv")] = b"soa.csx"

    forged = patch(signed.bundle, tmp_path / "t.zip", "soa.csv", rename)
    refused(forged, "entry 'soa.csx' is named 'soa.csv' in its local header")


def test_a_symbolic_link_is_named(signed, tmp_path):
    link = zipfile.ZipInfo("evidence/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = tmp_path / "t.zip"
    with zipfile.ZipFile(signed.bundle) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
        zout.writestr(link, b"/etc/passwd")
    refused(out, "entry 'evidence/link' is a symbolic link")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/win.ini", "is an absolute path"),
        ("../x", "has a '..' or empty path segment"),
        ("a/../../x", "has a '..' or empty path segment"),
        ("a//x", "has a '..' or empty path segment"),
        ("a\\..\\x", "has a forbidden character"),
        ("attachments/", "is a directory entry"),
    ],
)
def test_an_unsafe_path_is_named(signed, tmp_path, name, why):
    out = write(tmp_path / "t.zip", {**members(signed.bundle), name: b"x"})
    assert problems(out, signed) == [f"entry {name!r} {why}"]


def test_an_unsafe_path_fails_the_command(signed, tmp_path):
    refused(
        write(tmp_path / "t.zip", {**members(signed.bundle), "../x": b"x"}),
        "entry '../x' has a '..' or empty path segment",
    )


def test_an_encrypted_entry_is_named(signed, tmp_path):
    def encrypt(data: bytearray, at: int) -> None:
        data[at + 8] |= 0x01

    refused(patch(signed.bundle, tmp_path / "t.zip", "runs.json", encrypt), "entry 'runs.json' is encrypted")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_an_unsupported_compression_is_named(signed, tmp_path, method):
    out = tmp_path / "t.zip"
    with zipfile.ZipFile(signed.bundle) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            kind = method if item.filename == "runs.json" else zipfile.ZIP_DEFLATED
            zout.writestr(item.filename, zin.read(item.filename), compress_type=kind)
    assert problems(out, signed) == [f"entry 'runs.json' uses an unsupported compression ({method})"]


def test_a_name_that_is_not_utf8_is_named(signed, tmp_path):
    def garble(data: bytearray, at: int) -> None:
        data[at + 9] |= 0x08  # the UTF-8 flag: bit 11 of the flags
        data[at + 46] = 0xFF

    refused(
        patch(signed.bundle, tmp_path / "t.zip", "soa.csv", garble),
        "entry b'\\xffoa.csv' has a name that is not UTF-8",
    )


def test_offsets_before_the_start_of_the_file_are_named(signed, tmp_path):
    """The end record places the directory 1,000 bytes later than it is: every entry's local header
    offset, counted from there, becomes 1,000 bytes too small, the first one negative."""
    data = bytearray(signed.bundle.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<I", data, end + 16, offset + 1000)
    (tmp_path / "t.zip").write_bytes(bytes(data))
    refused(tmp_path / "t.zip", "entry 'chain.json' has no local header where the directory says")


def test_a_bad_crc_is_a_damaged_archive(signed, tmp_path):
    stored = write(tmp_path / "stored.zip", members(signed.bundle), compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(stored) as zf:
        info = zf.getinfo("chain.json")
    data = bytearray(stored.read_bytes())
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    body = info.header_offset + 30 + name_len + extra_len
    at = data.index(b'"root": "', body) + len('"root": "')  # a hex digit: still valid JSON
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    (tmp_path / "t.zip").write_bytes(bytes(data))
    refused(tmp_path / "t.zip", f"{tmp_path / 't.zip'}: damaged archive (Bad CRC-32 for file 'chain.json')")


def test_a_huge_central_directory_is_refused_before_it_is_parsed(tmp_path):
    """A million entries in 53 MB: parsed, they would take ~600 MB."""
    count = 1_000_000
    out = tmp_path / "t.zip"
    header = struct.Struct("<4s6H3I5HII")
    with out.open("wb") as fh:
        for start in range(0, count, 100_000):
            fh.write(
                b"".join(
                    header.pack(_CENTRAL, 20, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0) + b"%07d" % n
                    for n in range(start, start + 100_000)
                )
            )
        size = fh.tell()
        fh.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, size, 0, 0))
    run = refused(out, f"the archive's central directory is {size} bytes, more than {MAX_DIRECTORY}")
    assert run.peak_rss < RSS_LIMIT


# -- sizes ----------------------------------------------------------------------------------------


def test_a_200_mb_manifest_is_refused_in_bounded_memory(signed, tmp_path):
    out = with_spaces(signed.bundle, tmp_path / "t.zip", "manifest.json", 200 * MB)
    assert out.stat().st_size < 2 * MB
    run = refused(out, f"manifest.json is larger than the {64 * MB} bytes this verifier reads of it")
    assert run.peak_rss < RSS_LIMIT, run.peak_rss


def test_a_member_inflating_past_its_declared_size_is_refused(signed, tmp_path):
    name = evidence(signed.bundle)
    out = with_spaces(signed.bundle, tmp_path / "t.zip", name, 200 * MB)
    run = refused(
        out, f"{name} is larger than the {declared_size(signed.bundle, name)} bytes the manifest declares"
    )
    assert run.peak_rss < RSS_LIMIT, run.peak_rss


def test_a_directory_entry_that_understates_the_size_is_a_damaged_archive(signed, tmp_path):
    """The directory says the declared size, the data inflates to 200 MB: zipfile stops at the
    directory's size and the CRC, of all 200 MB, fails."""
    name = evidence(signed.bundle)
    size = declared_size(signed.bundle, name)
    big = with_spaces(signed.bundle, tmp_path / "big.zip", name, 200 * MB)

    def understate(data: bytearray, at: int) -> None:
        struct.pack_into("<I", data, at + 24, size)

    run = refused(
        patch(big, tmp_path / "t.zip", name, understate),
        f"{tmp_path / 't.zip'}: damaged archive (Bad CRC-32 for file {name!r})",
    )
    assert run.peak_rss < RSS_LIMIT, run.peak_rss


def test_understated_size_and_matching_crc_read_only_the_stated_bytes(signed, tmp_path):
    name = evidence(signed.bundle)
    size = declared_size(signed.bundle, name)
    big = with_spaces(signed.bundle, tmp_path / "big.zip", name, 200 * MB)

    def understate(data: bytearray, at: int) -> None:
        struct.pack_into("<I", data, at + 16, zlib.crc32(b" " * size))
        struct.pack_into("<I", data, at + 24, size)

    run = annexa_verify(patch(big, tmp_path / "t.zip", name, understate))
    assert run.code == 1 and run.stderr == "" and f"modified file {name}" in run.failures, run
    assert run.peak_rss < RSS_LIMIT, run.peak_rss


def test_an_overlong_line_is_refused(signed, tmp_path):
    name = evidence(signed.bundle)
    forged = forge(
        signed.bundle, tmp_path / "t.zip", signed.key, {name: lambda d: b"x" * (MAX_LINE + 1) + b"\n" + d}
    )
    assert problems(forged, signed) == [f"{name} has a line longer than {MAX_LINE} bytes"]


def test_a_document_declared_too_large_to_parse_is_refused_unread(signed, tmp_path):
    def inflate(files: dict) -> None:
        files["runs.json"]["size"] = MAX_DOCUMENT + 1

    forged = forge(signed.bundle, tmp_path / "t.zip", signed.key, {}, declare=inflate)
    expected = f"runs.json is {MAX_DOCUMENT + 1} bytes, more than the {MAX_DOCUMENT} this verifier parses"
    assert problems(forged, signed) == [expected]


# -- content, re-signed ---------------------------------------------------------------------------


def _drop(key: str) -> Callable[[dict], dict]:
    def edit(doc: dict) -> dict:
        del doc[key]
        return doc

    return edit


def _set(path: tuple, value: object) -> Callable[[object], object]:
    def edit(doc):
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return doc

    return edit


SHAPES = {
    "runs.json an object": (
        "runs.json",
        lambda d: {"runs": d},
        "runs.json: document: Input should be a valid array",
    ),
    "chain.json without registers": (
        "chain.json",
        _drop("registers"),
        "chain.json: registers: Field required",
    ),
    "a string for a list": (
        "checks.json",
        _set((0, "needs"), "fake.things.items"),
        "checks.json: 0.needs: Input should be a valid array",
    ),
    "a string for a run id": (
        "attestations.json",
        _set((0, "record", "run_id"), "2"),
        "attestations.json: 0.record.run_id: Input should be a valid integer",
    ),
    "a list for a seal": (
        "chain.json",
        _set(("spine", 0, "seal"), []),
        "chain.json: spine.0.seal: Input should be an object",
    ),
    "a register not keyed by run id": (
        "chain.json",
        _set(("registers", "two"), {"ncs": [], "transitions": [], "attestations": []}),
        "chain.json: registers.two.[key]: String should match pattern '^[0-9]+$'",
    ),
    "an NC version without its number": (
        "nonconformities.json",
        _set((0, "sealed", "document", "id"), "NC-0001"),
        "nonconformities.json: 0.sealed.document.id: Input should be a valid integer",
    ),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_a_malformed_document_is_named(signed, tmp_path, case):
    name, edit, expected = SHAPES[case]
    forged = forge(signed.bundle, tmp_path / "t.zip", signed.key, {name: as_json(edit)})
    found = problems(forged, signed)
    assert expected in found, found


def test_deep_nesting_is_named(signed, tmp_path):
    forged = forge(
        signed.bundle,
        tmp_path / "t.zip",
        signed.key,
        {"runs.json": lambda d: b"[" * 100_000 + b"]" * 100_000},
    )
    found = problems(forged, signed)
    assert found[0].startswith("runs.json: document: "), found


def test_a_malformed_document_fails_the_command(signed, tmp_path):
    forged = forge(
        signed.bundle, tmp_path / "t.zip", signed.key, {"runs.json": as_json(lambda d: {"runs": d})}
    )
    run = annexa_verify(forged, "--public-key", str(signed.public))
    assert run.code == 1 and run.stderr == "", run
    assert run.failures[0] == "runs.json: document: Input should be a valid array", run


def test_mismatched_records_are_named_up_to_a_limit_then_counted(signed, tmp_path):
    name = evidence(signed.bundle)

    def spoil(data: bytes) -> bytes:
        line = data.splitlines()[0]
        record = json.loads(line)
        lines = []
        for n in range(MAX_PROBLEMS + 5):
            record["resource_id"], record["data"] = f"r{n:03d}", {"n": n}
            lines.append(json.dumps(record, separators=(",", ":")).encode())
        return b"\n".join(lines) + b"\n"

    found = problems(forge(signed.bundle, tmp_path / "t.zip", signed.key, {name: spoil}), signed)
    named = [p for p in found if p.startswith(f"{name}:") and p.endswith("does not match its hash")]
    assert len(named) == MAX_PROBLEMS and f"{name}: 5 more records do not match their hash" in found


# -- the evidence fast path and the worker processes ----------------------------------------------


def test_the_fast_and_the_general_path_hash_the_same_tree():
    """Ids the exporter writes plainly take the fast path; escaped or non-ASCII ones the parser."""
    records = {"a": {"x": 1}, "b\u00e9": {"y": [1.5, "\u00e9"]}, 'c"q': {}, "d\\e": None, "z": {"k": "v"}}
    lines = []
    hashes = {}
    for rid, data in records.items():
        body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        hashes[rid] = hashlib.sha256(body.encode()).hexdigest()
        lines.append(f'{{"resource_id":{json.dumps(rid)},"hash":"{hashes[rid]}","data":{body}}}'.encode())
    lines[-1] = b'{"hash":"%s","resource_id":"\\u007a","data":{"k": "v"}}' % hashes["z"].encode()
    found = check_listing("e.ndjson", lines)
    assert found.problems == [] and found.count == len(records)
    assert found.tree == tree_hash(hashes.items())


def test_out_of_order_ids_are_named():
    line = b'{"resource_id":"%s","hash":"%s","data":{}}'
    digest = hashlib.sha256(b"{}").hexdigest().encode()
    found = check_listing("e.ndjson", [line % (b"b", digest), line % (b"a", digest)])
    assert found.problems == ["e.ndjson:2: unreadable record (resource ids out of order or repeated at 'a')"]


@pytest.fixture
def in_workers(monkeypatch) -> list[str]:
    """Every listing and result set read in worker processes, as for a large bundle on two cores;
    returns the files the workers were given."""
    given: list[str] = []

    class Recording(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            given.append(args[1])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(verify_module, "ProcessPoolExecutor", Recording)
    return given


def test_worker_processes_verify_the_same(signed, in_workers):
    report = verify_bundle(signed.bundle, signed.public)
    listed = json.loads(members(signed.bundle)["manifest.json"])["files"]
    assert report.ok and report.records == 4 and report.checked_files == len(listed)
    assert len(in_workers) == 4 and all(n.startswith(("evidence/", "results/")) for n in in_workers)


def test_a_flipped_byte_is_named_from_a_worker(signed, tmp_path, in_workers):
    name = evidence(signed.bundle)

    def flip(data: bytes) -> bytes:
        at = data.index(b'"data":') + 10
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]

    out = write(tmp_path / "t.zip", {**members(signed.bundle), name: flip(members(signed.bundle)[name])})
    found = problems(out, signed)
    assert f"modified file {name}" in found and any("does not match its hash" in p for p in found), found
    assert name in in_workers


def test_a_refusal_in_a_worker_is_named(signed, tmp_path, in_workers):
    name = evidence(signed.bundle)
    out = with_spaces(signed.bundle, tmp_path / "t.zip", name, 4 * MB)
    limit = declared_size(signed.bundle, name)
    assert problems(out, signed) == [f"{name} is larger than the {limit} bytes the manifest declares"]
    assert name in in_workers
