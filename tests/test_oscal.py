"""OSCAL in bundles: the documents validate with compliance-trestle's models, every observation's
evidence is a bundle file with the manifest's hash, findings judge the period, and the manifest
covers oscal/ so `annexa verify` names an edit.

The store: the fake system over three days, clock injected. A.5.1 is attested for a year before
anything runs, A.5.2 for one day only; y is bad in fake:b on day 1 (an NC, accepted by a person),
good from day 2, when fake:a also gains a resource with a hostile name; fake:a cannot be collected
on day 3. A.7.4 is excluded.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal import OSCAL_VERSION, OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile

from agent.audit.attestations import attest
from agent.audit.nc_actions import Change, apply
from agent.bundle.export import export_bundle
from agent.bundle.oscal import _covered, _Span
from agent.bundle.oscal_catalog import line, markup
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.verify import verify_bundle
from agent.cli import bundles as bundles_cli
from agent.cli.app import run as annexa_run
from agent.cli.context import configure_logs
from agent.config.settings import Settings
from agent.plugin.model import Severity
from agent.plugin.registry import CheckSpec, Registry
from agent.run.runner import Runner
from agent.store import Store
from agent.store.schema import Attestation
from tests.fakeplugin import World, build_registry, fake_system_settings
from tests.period_store import frozen

DAY = date(2025, 6, 2)
HOSTILE = "<img src=x onerror=alert(1)>\n- [pay](http://evil.example) *now*"
RESULTS, CATALOG, PROFILE = "oscal/assessment-results.json", "oscal/catalog.json", "oscal/profile.json"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=day - 1), time(hour, minute), tzinfo=UTC)


@dataclass
class Setup:
    root: Path
    store: Store
    settings: Settings
    registry: Registry
    key: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Setup:
    root = tmp_path_factory.mktemp("oscal")
    key = root / "agent.key"
    create_key_pair(key)
    url = f"sqlite:///{root / 'store.db'}"
    settings = fake_system_settings(
        store={"url": url},
        export={"signing_key": str(key)},
        controls={"excluded": {"A.7.4": "No premises of our own."}},
    )
    store = Store(url, keys=seal_keys(str(key)))
    world = World()
    registry = build_registry(world)
    (root / "policy.pdf").write_bytes(b"%PDF-1.4 the information security policy")
    (root / "roles.pdf").write_bytes(b"%PDF-1.4 roles, for a day")
    with frozen(at(1, 5)):
        attest(store, "A.5.1", root / "policy.pdf", actor="ciso", valid_for_days=365)
    with frozen(at(1, 5, 30)):
        attest(store, "A.5.2", root / "roles.pdf", actor="ciso", valid_for_days=1)
    with frozen(at(1, 6)):
        Runner(store, settings, registry).collect([])
    with frozen(at(1, 10)):
        apply(store, "NC-0001", "accept", "dana", Change(reason="confirmed"))
    world.items["fake:b"]["y"] = True
    world.items["fake:a"][HOSTILE] = True
    with frozen(at(2, 6)):
        Runner(store, settings, registry).collect([])
    world.broken.add("fake:a")
    with frozen(at(3, 6)):
        Runner(store, settings, registry).collect([])
    yield Setup(root, store, settings, registry, key)
    store.close()


def export(setup: Setup, name: str, registry: Registry | None = None, **kwargs: Any) -> Path:
    out = setup.root / name
    with frozen(at(4, 9)):
        export_bundle(setup.store, setup.settings, registry or setup.registry, out, **kwargs)
    return out


@pytest.fixture(scope="module")
def bundle(setup) -> Path:
    return export(setup, "audit.zip")


@pytest.fixture(scope="module")
def members(bundle) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture(scope="module")
def results(members) -> dict[str, Any]:
    return json.loads(members[RESULTS])["assessment-results"]


def by_uuid(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["uuid"]: i for i in items}


def prop(item: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in item.get("props", []) if p["name"] == name]


def test_the_documents_validate_with_trestles_models(members):
    ar = AssessmentResults.model_validate(json.loads(members[RESULTS])["assessment-results"])
    catalog = Catalog.model_validate(json.loads(members[CATALOG])["catalog"])
    profile = Profile.model_validate(json.loads(members[PROFILE])["profile"])
    for doc in (ar, catalog, profile):
        version = doc.metadata.oscal_version.root.root
        assert version == OSCAL_VERSION and re.match(OSCAL_VERSION_REGEX, version)
        assert doc.metadata.last_modified.tzinfo is not None
    (result,) = ar.results
    assert result.start.tzinfo is not None and result.end > result.start
    assert len(result.observations) == 6  # 3 runs x 2 scopes of fake.things.good
    # Every link into the document resolves inside it.
    observations = {o.uuid for o in result.observations}
    assert {r.observation_uuid for f in result.findings for r in f.related_observations or []} <= observations
    items = {i.uuid for i in result.local_definitions.inventory_items}
    assert {s.subject_uuid for o in result.observations for s in o.subjects or []} == items
    resources = {r.uuid for r in ar.back_matter.resources}
    refs = {link.href[1:] for o in result.observations for e in o.relevant_evidence for link in e.links or []}
    assert refs and refs <= resources and ar.import_ap.href[1:] in resources


def test_the_documents_are_what_trestle_itself_writes(members):
    """Annexa serializes validated models itself (trestle's JSON hook is slow): byte for byte the same."""
    for name, model, pretty in (
        (RESULTS, AssessmentResults, False),
        (CATALOG, Catalog, True),
        (PROFILE, Profile, True),
    ):
        (body,) = json.loads(members[name]).values()
        assert model.model_validate(body).oscal_serialize_json_bytes(pretty=pretty) == members[name]


def test_every_observations_evidence_hash_matches_its_bundle_file(members, results):
    manifest = {f["path"]: f["sha256"] for f in json.loads(members["manifest.json"])["files"]}
    resources = by_uuid(results["back-matter"]["resources"])
    checked = 0
    for obs in results["results"][0]["observations"]:
        listed_blobs: set[str] = set()
        for evidence in obs["relevant-evidence"]:
            if "href" not in evidence:
                continue
            (link,) = evidence["links"]
            (rlink,) = resources[link["href"][1:]]["rlinks"]
            assert rlink["href"] == evidence["href"] and evidence["href"].startswith("../")
            path = evidence["href"][3:]
            (digest,) = rlink["hashes"]
            assert digest["algorithm"] == "SHA-256"
            assert digest["value"] == manifest[path] == hashlib.sha256(members[path]).hexdigest()
            if path.startswith("evidence/"):
                listed_blobs |= {json.loads(x)["hash"] for x in members[path].splitlines()}
            checked += 1
        assert any(e.get("href", "").startswith("../results/") for e in obs["relevant-evidence"])
        # Each resource's verdict names the records it was judged on: they are in the linked listings.
        for subject in obs.get("subjects", []):
            assert set(prop(subject, "evidence")) <= listed_blobs
    assert checked == 11  # 6 result sets and 6 listings, less day 3's fake:a that could not be collected
    # Attachments and the checks (the plan the results import) are linked with their hashes too.
    paths = {r["props"][0]["value"]: r for r in resources.values()}
    assert "checks.json" in paths and sum(p.startswith("attachments/") for p in paths) == 2
    for path, resource in paths.items():
        assert resource["rlinks"][0]["hashes"][0]["value"] == manifest[path]


def test_control_ids_match_the_catalog(members, results):
    catalog = json.loads(members[CATALOG])["catalog"]
    controls = {c["id"]: c for g in catalog["groups"] for c in g["controls"]}
    assert len(controls) == 93 and [g["id"] for g in catalog["groups"]] == [
        "organizational", "people", "physical", "technological",
    ]  # fmt: skip
    assert controls["A.8.9"]["title"] == "Configuration management"
    assert all(set(c) == {"id", "title", "props"} for c in controls.values())  # no text of the standard
    profile = json.loads(members[PROFILE])["profile"]
    (imported,) = profile["imports"]
    selected = imported["include-controls"][0]["with-ids"]
    assert imported["href"] == "catalog.json" and len(selected) == 92 and "A.7.4" not in selected
    result = results["results"][0]
    reviewed = [
        c["control-id"] for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]
    ]
    targets = [f["target"]["target-id"] for f in result["findings"]]
    assert reviewed == targets == selected and set(targets) <= set(controls)


def test_findings_judge_the_whole_period(results):
    result = results["results"][0]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    observations = by_uuid(result["observations"])
    # A failure on day 1, fixed since: not satisfied over the period, linked to its NC.
    a89 = findings["A.8.9"]
    assert a89["target"]["status"] == {
        "state": "not-satisfied", "reason": "fail", "remarks": a89["target"]["status"]["remarks"],
    }  # fmt: skip
    assert "6 evaluations of 1 check(s) in the period: 4 passed, 1 failed, 1 in error" in a89["description"]
    assert prop(a89, "nonconformity") == ["NC-0001 open"] and prop(a89, "fail-evaluations") == ["1"]
    assert len(a89["related-observations"]) == 6
    # Manual controls: attested across the period, attested for part of it, not attested at all.
    assert findings["A.5.1"]["target"]["status"]["state"] == "satisfied"
    assert findings["A.5.1"]["target"]["status"]["reason"] == "other"
    assert findings["A.5.1"]["links"][0]["text"] == "policy.pdf"
    assert findings["A.5.2"]["target"]["status"]["state"] == "not-satisfied"
    assert "uncovered" in findings["A.5.2"]["description"]
    assert findings["A.5.3"]["target"]["status"] == {
        "state": "not-satisfied", "reason": "other", "remarks": "No check covers this control and nothing attests it.",
    }  # fmt: skip
    assert prop(findings["A.5.3"], "assessment") == ["manual"] and "A.7.4" not in findings
    # Observations: the newest of each scope is current, the rest historic; failures are findings.
    kinds = {(prop(o, "scope")[0], prop(o, "run")[0]): o["types"] for o in observations.values()}
    runs = sorted({run for _, run in kinds}, key=int)
    assert kinds[("fake:b", runs[0])] == ["finding", "historic"]
    assert kinds[("fake:b", runs[-1])] == ["control-objective"]
    assert kinds[("fake:a", runs[-1])] == ["finding"]
    assert all(
        o["methods"] == ["TEST"] and prop(o, "assessment") == ["automated"] for o in observations.values()
    )


def test_subjects_carry_each_resources_verdict_literally(results):
    result = results["results"][0]
    in_a = [o for o in result["observations"] if prop(o, "scope") == ["fake:a"]]
    obs = in_a[1]  # day 2's, in chain order
    subjects = {s["title"]: s for s in obs["subjects"]}
    assert set(subjects) == {"x", "y", line(HOSTILE)} and prop(subjects["x"], "status") == ["pass"]
    assert "remarks" not in subjects["x"]  # a pass's reason words the failure it did not find
    assert "\n" not in line(HOSTILE) and "\\x0a" in line(HOSTILE)
    items = {i["uuid"]: i for i in result["local-definitions"]["inventory-items"]}
    hostile = items[subjects[line(HOSTILE)]["subject-uuid"]]
    # In OSCAL's Markdown fields the name is escaped: no link, HTML or list renders from it.
    assert hostile["description"] == markup(HOSTILE)
    assert "\\<img" in hostile["description"] and "\\[pay\\]" in hostile["description"]
    assert prop(hostile, "resource-id") == [line(HOSTILE)] and prop(hostile, "scope") == ["fake:a"]
    (failed,) = [
        o for o in result["observations"] if prop(o, "outcome") == ["fail"] and prop(o, "scope") == ["fake:b"]
    ]
    y = next(s for s in failed["subjects"] if s["title"] == "y")
    assert failed["subjects"][0]["title"] == "y"  # failures first
    assert prop(y, "status") == ["fail"] and y["remarks"] == "y is not good"
    (errored,) = [o for o in result["observations"] if prop(o, "outcome") == ["error"]]
    listing = next(e for e in errored["relevant-evidence"] if prop(e, "source"))
    assert prop(listing, "status") == ["error"] and "href" not in listing
    assert "could not be collected" in listing["description"]


def test_the_same_selection_gives_the_same_documents(setup, members):
    again = export(setup, "again.zip")
    with zipfile.ZipFile(again) as zf:
        assert all(zf.read(n) == members[n] for n in (RESULTS, CATALOG, PROFILE))


def test_a_check_never_evaluated_is_not_passing(setup):
    registry = build_registry(World())
    registry.checks["fake.things.named"] = CheckSpec(
        id="fake.things.named",
        title="Things are named",
        controls={"A.8.9": "configuration", "A.5.3": "duties"},
        severity=Severity.MINOR,
        needs=("fake.things.items",),
        rationale="Names matter.",
        remediation="Name them.",
        func=lambda ev: iter(()),
    )
    out = export(setup, "later.zip", registry=registry, controls=["A.5.3"])
    with zipfile.ZipFile(out) as zf:
        result = json.loads(zf.read(RESULTS))["assessment-results"]["results"][0]
    (finding,) = result["findings"]
    assert finding["target"]["target-id"] == "A.5.3" and "observations" not in result
    assert finding["target"]["status"]["state"] == "not-satisfied"
    assert finding["target"]["status"]["reason"] == "other"
    assert "Never evaluated in the period: fake.things.named" in finding["description"]
    assert verify_bundle(out).ok


def test_verify_passes_and_names_an_edited_oscal_document(bundle, tmp_path):
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(edited, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == RESULTS:
                data = data.replace(b'"not-satisfied"', b'"satisfied"', 1)
            zout.writestr(item.filename, data)
    assert verify_bundle(edited).problems == [f"modified file {RESULTS}"]


def test_attestations_cover_a_span_only_without_a_gap():
    span = _Span(at(1, 0), at(10, 0))

    def vouch(start: datetime, days: int | None) -> Attestation:
        return Attestation(
            control_id="A.5.1", attachment="0" * 64, filename="p.pdf", actor="ciso", at=start,
            expires_at=start + timedelta(days=days) if days is not None else None,
        )  # fmt: skip

    assert _covered([vouch(at(1, 0), 5), vouch(at(5, 0), 6)], span)
    assert _covered([vouch(at(0, 0), None)], span)
    assert not _covered([vouch(at(1, 0), 4), vouch(at(6, 0), 6)], span)  # day 5 uncovered
    assert not _covered([vouch(at(1, 1), 30)], span)  # starts after the period does
    assert not _covered([vouch(at(1, 0), 5)], span)
    assert not _covered([], span)


def test_export_format_oscal_writes_the_bundle_and_its_documents(
    setup, members, tmp_path, monkeypatch, capsys
):
    def opened(config: Path | None) -> tuple[Settings, Store, Registry]:
        configure_logs(quiet=False)  # as the real open_config does: logs on stderr, stdout is the JSON
        return setup.settings, setup.store, setup.registry

    monkeypatch.setattr(bundles_cli, "open_config", opened)
    out = tmp_path / "for-grc"
    with frozen(at(4, 9)):
        code = annexa_run(["export", "--format", "oscal", "--out", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["bundle"] == str(out / "bundle.zip")
    assert summary["oscal"] == [str(out / name) for name in (CATALOG, PROFILE, RESULTS)]
    with zipfile.ZipFile(out / "bundle.zip") as zf:
        for name in (CATALOG, PROFILE, RESULTS):
            assert (out / name).read_bytes() == zf.read(name) == members[name]
    assert verify_bundle(out / "bundle.zip").ok


def test_export_format_refusals_are_one_line_usage_errors(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for args, message in (
        (["--format", "pdf", "--out", str(tmp_path / "x.zip")], "--format 'pdf' is not one of bundle, oscal"),
        (["--format", "oscal", "--out", str(tmp_path / "file")], "with --format oscal, name a directory"),
        (["--format", "oscal", "--out", str(tmp_path / "new.zip")], "with --format oscal, name a directory"),
    ):
        assert annexa_run(["export", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_oscal_stays_out_of_command_start_up():
    code = (
        "import sys, agent.cli.bundles, agent.bundle.oscal, agent.bundle.export; "
        "sys.exit('trestle' in ' '.join(sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
