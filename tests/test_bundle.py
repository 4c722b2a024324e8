"""Evidence bundles: collect (demo organisation) -> attest -> export -> verify, then every tampering."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from agent.bundle.signing import create_key_pair
from agent.bundle.verify import verify_bundle
from agent.demo.organisation import seed_demo_org
from tests.cli import annexa, annexa_json
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, _reset_moto

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(moto_server, tmp_path_factory):
    """One collected, attested and exported store shared by the tests of this module."""
    _reset_moto(moto_server)
    seed_demo_org(moto_server)
    tmp = tmp_path_factory.mktemp("bundle")
    create_key_pair(tmp / "signing.key")
    create_key_pair(tmp / "intruder.key")
    (tmp / "annexa.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp / "store.db"}"\n[aws]\nenabled = true\nmax_attempts = 1\nregions = ["eu-west-1"]\n'
        '[export]\nsigning_key = "signing.key"\n'
        '[controls.excluded]\n"A.7.4" = "No premises of our own; the landlord monitors the building."\n'
    )
    nowhere = tmp / "no-aws-config"
    env = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(nowhere),
        "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
    }
    config = str(tmp / "annexa.toml")
    assert annexa("collect", "--source", "aws.iam.*", "--config", config, env=env).returncode == 0
    (tmp / "policy.pdf").write_bytes(b"%PDF-1.4 information security policy v3, approved by the board")
    attested = annexa_json(
        "attest",
        "A.5.1",
        "--file",
        str(tmp / "policy.pdf"),
        "--valid-for",
        "365",
        "--by",
        "ciso",
        "--config",
        config,
    )
    assert attested["control"] == "A.5.1" and attested["by"] == "ciso"
    assert annexa("collect", "--source", "aws.iam.*", "--config", config, env=env).returncode == 0
    return tmp


@pytest.fixture(scope="module")
def bundle(workdir):
    out = workdir / "audit.zip"
    summary = annexa_json("export", "--out", str(out), "--config", str(workdir / "annexa.toml"))
    assert summary["runs"] == 3 and summary["fingerprint"].startswith("SHA256:")
    return out


def test_round_trip_verifies_with_the_pinned_key(bundle, workdir):
    proc = annexa("verify", str(bundle), "--public-key", str(workdir / "signing.pub"))
    assert proc.returncode == 0, proc.stdout
    assert "verified: 3 run(s)" in proc.stdout and "note:" not in proc.stdout
    report = annexa_json("verify", str(bundle))
    assert report["ok"] and report["records"] >= 29 and report["problems"] == []
    unpinned = annexa("verify", str(bundle))
    assert unpinned.returncode == 0
    assert "note: checked against the key inside the bundle only" in unpinned.stdout
    assert "self-consistent, not who made it" in unpinned.stdout


def test_the_store_verifies_against_a_kept_head(workdir):
    config = str(workdir / "annexa.toml")
    head = annexa_json("verify", "--store", "--config", config)["head"]
    assert annexa("verify", "--store", "--head", head, "--config", config).returncode == 0
    other = annexa("verify", "--store", "--head", "ab" * 32, "--config", config)
    assert other.returncode == 1 and f"FAIL head {'ab' * 32} is not on the store's chain" in other.stdout
    bad = annexa("verify", "--store", "--head", "HEAD", "--config", config)
    assert bad.returncode == 2 and "64 lowercase hex digits" in bad.stderr


def test_the_bundle_holds_what_an_auditor_needs(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        checks = {c["id"]: c for c in json.loads(zf.read("checks.json"))}
        ncs = json.loads(zf.read("nonconformities.json"))
        soa = json.loads(zf.read("soa.json"))
        attestations = json.loads(zf.read("attestations.json"))
    assert {"manifest.json", "manifest.sig", "public_key.pem", "runs.json", "index.html", "soa.csv"} <= names
    assert any(n.startswith("evidence/aws.iam.credential_report/") for n in names)
    assert "def root_mfa" in checks["aws.iam.root_mfa"]["logic"] and checks["aws.iam.root_mfa"]["controls"]
    assert ncs and all(nc["history"][0]["to_state"] == "draft" for nc in ncs)
    assert len(soa) == 93
    excluded = next(r for r in soa if r["control"] == "A.7.4")
    assert excluded["implementation"] == "excluded" and "landlord" in excluded["justification"]
    assert attestations[0]["path"] in names and attestations[0]["expires_at"]


def rewrite(src: Path, dst: Path, *, drop=(), add=None, change=None):
    """Copy a zip, dropping, adding or changing members (change: name -> function of bytes)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename in drop:
                continue
            data = zin.read(item.filename)
            if change and item.filename in change:
                data = change[item.filename](data)
            zout.writestr(item.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def evidence_member(bundle):
    with zipfile.ZipFile(bundle) as zf:
        return next(n for n in zf.namelist() if n.startswith("evidence/aws.iam.users/"))


def flip_one_byte(data: bytes) -> bytes:
    at = data.index(b'"UserName"') + 13
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def resign(workdir):
    from cryptography.hazmat.primitives import serialization

    intruder = serialization.load_pem_private_key((workdir / "intruder.key").read_bytes(), None)

    def sign(_sig: bytes, manifest: bytes) -> bytes:
        return intruder.sign(manifest)

    return sign


def test_one_flipped_byte_in_evidence_is_named(bundle, tmp_path):
    member = evidence_member(bundle)
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={member: flip_one_byte}))
    assert f"modified file {member}" in report.problems
    assert any(p.startswith(f"{member}:") and "does not match its hash" in p for p in report.problems)


def test_a_removed_file_is_named(bundle, tmp_path):
    member = evidence_member(bundle)
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", drop={member}))
    assert report.problems[0] == f"missing file {member}"


def test_an_added_file_is_named(bundle, tmp_path):
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", add={"evidence/extra.ndjson": b"{}\n"}))
    assert report.problems == ["extra file evidence/extra.ndjson (not in the manifest)"]


def test_an_edited_manifest_breaks_the_signature(bundle, tmp_path):
    def edit(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["files"] = [f for f in manifest["files"] if f["path"] != "index.html"]
        return json.dumps(manifest).encode()

    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={"manifest.json": edit}))
    # The signature is checked before the manifest is parsed: nothing an attacker wrote is read.
    assert len(report.problems) == 1
    assert "manifest.sig does not match manifest.json" in report.problems[0]
    assert report.problems[0].endswith("nothing else was read")


def test_a_swapped_signature_is_detected(bundle, tmp_path):
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={"manifest.sig": lambda d: bytes(64)}))
    assert any("manifest.sig does not match" in p for p in report.problems)


def test_a_swapped_public_key_is_detected(bundle, workdir, tmp_path):
    other = (workdir / "intruder.pub").read_bytes()
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={"public_key.pem": lambda d: other}))
    assert any("manifest.sig does not match" in p for p in report.problems)


def test_a_bundle_resigned_by_someone_else_fails_against_the_pinned_key(bundle, workdir, tmp_path):
    other_pub = (workdir / "intruder.pub").read_bytes()
    sign = resign(workdir)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    from agent.bundle.signing import fingerprint, load_public_key

    manifest["signer"]["fingerprint"] = fingerprint(load_public_key(other_pub, "intruder"))
    for entry in manifest["files"]:
        if entry["path"] == "public_key.pem":
            entry["sha256"], entry["size"] = hashlib.sha256(other_pub).hexdigest(), len(other_pub)
    body = json.dumps(manifest).encode()
    forged = rewrite(
        bundle,
        tmp_path / "t.zip",
        change={
            "manifest.json": lambda d: body,
            "manifest.sig": lambda d: sign(d, body),
            "public_key.pem": lambda d: other_pub,
        },
    )
    # The manifest is self-consistent, but every seal inside was signed by the agent's own key.
    unpinned = verify_bundle(forged)
    assert any("signature that does not verify under the bundle's key" in p for p in unpinned.problems)
    report = verify_bundle(forged, workdir / "signing.pub")
    assert any("public_key.pem was replaced" in p for p in report.problems)
    proc = annexa("verify", str(forged), "--public-key", str(workdir / "signing.pub"))
    assert proc.returncode == 1 and "FAIL public_key.pem was replaced" in proc.stdout


def test_verify_exits_1_and_names_the_file(bundle, tmp_path):
    member = evidence_member(bundle)
    broken = rewrite(bundle, tmp_path / "t.zip", change={member: flip_one_byte})
    proc = annexa("verify", str(broken))
    assert proc.returncode == 1 and f"FAIL modified file {member}" in proc.stdout


def test_the_store_verifies_its_own_chain(workdir, tmp_path):
    assert annexa_json("verify", "--store", "--config", str(workdir / "annexa.toml"))["ok"]
    copy = tmp_path / "store.db"
    shutil.copy(workdir / "store.db", copy)
    import sqlite3

    with sqlite3.connect(copy) as conn:
        conn.execute(
            "UPDATE blob SET data = replace(data, 'alice', 'alicia') WHERE data LIKE '%alice.nguyen%'"
        )
    config = tmp_path / "annexa.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{copy}"\n')
    proc = annexa("verify", "--store", "--config", str(config))
    assert proc.returncode == 1 and "does not match its hash" in proc.stdout
    assert "note: no signing key: only the chain's self-consistency was proven" in proc.stdout


def test_controls_filter_and_period(workdir, tmp_path):
    out = tmp_path / "iam.zip"
    summary = annexa_json(
        "export", "--out", str(out), "--controls", "A.8.5", "--from", "2000-01-01", "--config",
        str(workdir / "annexa.toml"),
    )  # fmt: skip
    assert summary["runs"] == 3
    with zipfile.ZipFile(out) as zf:
        controls = json.loads(zf.read("controls.json"))
        checks = {c["id"] for c in json.loads(zf.read("checks.json"))}
    assert [c["id"] for c in controls] == ["A.8.5"]
    assert "aws.iam.root_mfa" in checks and "aws.iam.user_inline_policies" not in checks
    assert verify_bundle(out).ok
    empty = annexa(
        "export",
        "--out",
        str(tmp_path / "none.zip"),
        "--to",
        "2001-01-01",
        "--config",
        str(workdir / "annexa.toml"),
    )
    assert empty.returncode == 2 and "no sealed run in that period" in empty.stderr


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_renders_in_a_real_browser(bundle, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("ANNEXA_REQUIRE_SYSTEM_DEPS") == "1" or os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
        pytest.skip("chromium not installed (make test installs it)")
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(tmp_path / "b")
    page = (tmp_path / "b" / "index.html").as_uri()
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1400,1800", page], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page], check=True, capture_output=True, text=True, timeout=120
    )
    html = dom.stdout
    assert 'id="control-table"' in html and 'id="nc-register"' in html
    assert "A.8.5" in html and "Secure authentication" in html and "failing" in html
    assert "NC-0001" in html and "aws.iam.root_mfa" in html and "draft" in html
    assert "policy.pdf" in html  # the attestation
    assert "http://" not in html.split("<main>")[0] and "<script src" not in html  # no external asset


def test_statement_of_applicability_in_every_format(workdir, tmp_path):
    config = str(workdir / "annexa.toml")
    rows = json.loads(annexa("soa", "--format", "json", "--config", config).stdout)
    assert len(rows) == 93 and {r["implementation"] for r in rows} >= {"failing", "manual", "excluded"}
    policy = next(r for r in rows if r["control"] == "A.5.1")
    assert policy["implementation"] == "manual" and policy["attestation"] == "policy.pdf"
    csv_text = annexa("soa", "--config", config).stdout
    assert csv_text.splitlines()[0].startswith("control,theme,title,applicable,justification,implementation")
    assert len(csv_text.splitlines()) == 94
    out = tmp_path / "soa.xlsx"
    assert annexa("soa", "--format", "xlsx", "--out", str(out), "--config", config).returncode == 0
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet.max_row == 94 and sheet["A2"].value == "A.5.1"
    bad = annexa("soa", "--format", "xlsx", "--config", config)
    assert bad.returncode == 2 and "needs --out" in bad.stderr


def test_attest_rejects_bad_input(workdir):
    config = str(workdir / "annexa.toml")
    for args, message in [
        (["A.9.9", "--file", str(workdir / "policy.pdf")], "not an Annex A 2022 control"),
        (["A.5.1", "--file", str(workdir / "missing.pdf")], "missing.pdf"),
        (["A.5.1", "--file", str(workdir / "policy.pdf"), "--valid-for", "0"], "--valid-for"),
    ]:
        proc = annexa("attest", *args, "--config", config)
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
