"""The asset inventory (A.5.9, A.5.12): `annexa inventory` over sealed evidence collected from moto,
its CSV and XLSX (strings from AWS are data, never formulas), the bundle's inventory.json that
`annexa verify` re-derives, and the `aws.tags.required` check's verdicts and reasons."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from agent.audit.inventory import TagNames, inventory_document, newest_listings, scope_parts, write_inventory
from agent.audit.samples import Seen
from agent.bundle.signing import create_key_pair
from agent.plugin.loader import load_plugins
from tests.bundles import forge
from tests.cli import annexa, annexa_json
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, _reset_moto
from tests.scenarios import evaluate
from tests.scenarios.aws_assets import SCENARIOS, blank_owner, sound_snapshot, unowned_snapshot, untagged

ACCOUNT, REGION = "123456789012", "eu-west-1"
HOSTILE = '=HYPERLINK("http://evil.example/x","click")'
T0 = datetime(2026, 11, 1, tzinfo=UTC)


# --- without a store -------------------------------------------------------------------------------


def test_scopes_split_generically_into_system_account_and_region() -> None:
    assert scope_parts(f"aws:{ACCOUNT}:{REGION}") == ("aws", ACCOUNT, REGION)
    assert scope_parts(f"aws:{ACCOUNT}") == ("aws", ACCOUNT, "")
    assert scope_parts("gcp:organizations/1") == ("gcp", "organizations/1", "")
    assert scope_parts("aws") == ("aws", "", "")


def test_the_newest_listing_of_each_source_and_scope_replaces_stand_ins() -> None:
    def seen(scope: str, hours: int, tree: str, source: str = "aws.ec2.instances") -> Seen:
        return Seen(source, scope, T0 + timedelta(hours=hours), f"obs-{tree}", tree)

    old, new, tie = (
        seen("aws:1:eu-west-1", 0, "a"),
        seen("aws:1:eu-west-1", 1, "b"),
        seen("aws:1:eu-west-1", 1, "c"),
    )
    stand_in, part = seen("aws:2", 0, "d"), seen("aws:2:eu-west-1", 1, "e")
    other = seen("aws:1:eu-west-1", 0, "f", source="aws.ec2.volumes")
    assert newest_listings([old, new, tie, stand_in, part, other]) == [tie, part, other]


def test_a_source_without_a_reader_still_lists_each_resource_and_owner_tags_apply_in_order() -> None:
    readers = load_plugins(systems=()).asset_readers
    listings = [
        Seen("aws.ec2.instances", f"aws:{ACCOUNT}:{REGION}", T0, "o1", "t1"),
        Seen("aws.kms.keys", f"aws:{ACCOUNT}:{REGION}", T0, "o2", "t2"),
    ]
    rows = {
        "t1": [("arn:i-1", "h1", {"InstanceId": "i-1", "Tags": {"Owner": "b", "owner": "a", "Name": "api"}})],
        "t2": [("arn:key/1", "h2", {"KeyId": "1"})],
    }
    doc = inventory_document(listings, lambda s: rows[s.tree], readers, TagNames(("owner", "Owner"), ()))
    instance, key = doc["assets"]
    assert (instance["type"], instance["name"], instance["owner"], instance["evidence"]) == (
        "AWS::EC2::Instance", "api", "a", "h1",
    )  # fmt: skip
    assert (key["type"], key["name"], key["tags"], key["owner"]) == ("aws.kms.keys", "arn:key/1", {}, "")
    assert [entry["resources"] for entry in doc["listings"]] == [1, 1]


def test_iam_roles_show_their_owner_and_users_their_name_only() -> None:
    """A role's tags name its owner; a user's are not collected (they describe a person)."""
    readers = load_plugins(systems=()).asset_readers
    listings = [
        Seen(source, f"aws:{ACCOUNT}", T0, f"o-{source}", source)
        for source in ("aws.iam.roles", "aws.iam.users")
    ]
    rows = {
        "aws.iam.roles": [("arn:role/ci", "h1", {"RoleName": "ci", "Tags": {"owner": "platform"}})],
        "aws.iam.users": [("arn:user/bob", "h2", {"UserName": "bob"})],
    }
    doc = inventory_document(listings, lambda s: rows[s.tree], readers, TagNames(("owner",), ()))
    assert [(a["type"], a["name"], a["owner"]) for a in doc["assets"]] == [
        ("AWS::IAM::Role", "ci", "platform"), ("AWS::IAM::User", "bob", ""),
    ]  # fmt: skip


def test_json_on_the_terminal_escapes_controls_from_collected_strings() -> None:
    readers = load_plugins(systems=()).asset_readers
    listings = [Seen("aws.ec2.instances", f"aws:{ACCOUNT}:{REGION}", T0, "o1", "t1")]
    hostile = "api\x1b[2J\x9b31m\u202eevil"
    rows = {"t1": [("arn:i-1", "h1", {"InstanceId": "i-1", "Tags": {"Name": hostile, "owner": hostile}})]}
    doc = inventory_document(listings, lambda s: rows[s.tree], readers, TagNames(("owner",), ()))
    text = write_inventory(doc, "json", None)
    assert text is not None and text.isascii() and "\\u009b31m\\u202eevil" in text
    assert json.loads(text)["assets"][0]["name"] == hostile  # escaped on screen, the same value when read


def test_required_tags_reasons_name_the_missing_keys() -> None:
    reasons = {r.resource_id: r.reason for r in evaluate(SCENARIOS[0])}
    assert (
        reasons[untagged.resource_id]
        == "AWS::EC2::Instance batch lacks the required tag(s) owner, classification"
    )
    assert reasons[blank_owner.resource_id] == "AWS::EC2::Instance i-blank lacks the required tag(s) owner"
    assert (
        reasons[unowned_snapshot.resource_id] == "AWS::RDS::DBSnapshot manual lacks the required tag(s) owner"
    )
    assert reasons[sound_snapshot.resource_id] == (
        "AWS::RDS::DBClusterSnapshot nightly carries owner, classification"
    )
    (unset,) = evaluate(SCENARIOS[1])
    assert 'required_tags = ["owner", "classification"]' in unset.reason


def test_every_asset_reader_reads_a_source_some_collector_lists() -> None:
    registry = load_plugins()
    assert set(registry.asset_readers) <= set(registry.collectors)


# --- the command and the bundle, on evidence collected from moto -----------------------------------


@pytest.fixture(scope="module")
def collected(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """EC2 instances (tagged, untagged, one with a formula in a tag) and a bucket, collected twice."""
    _reset_moto(moto_server)
    tmp = tmp_path_factory.mktemp("inventory")
    nowhere = tmp / "no-aws-config"
    env = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(nowhere),
        "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
    }
    session = boto3.Session(FAKE_KEY_ID, FAKE_SECRET, region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=moto_server)
    tagged = {"Name": "api", "owner": "payments", "classification": "confidential"}
    ids = {}
    for name, tags in (("tagged", tagged), ("hostile", {"owner": HOSTILE, "classification": "internal"}),
                       ("bare", {})):  # fmt: skip
        spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        ids[name] = ec2.run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1, **({"TagSpecifications": spec} if tags else {})
        )["Instances"][0]["InstanceId"]
    session.client("s3", endpoint_url=moto_server).create_bucket(
        Bucket="ledger", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    create_key_pair(tmp / "signing.key")
    config = tmp / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp / "store.db"}"\n[aws]\nenabled = true\nmax_attempts = 1\n'
        f'regions = ["{REGION}"]\n[export]\nsigning_key = "signing.key"\n'
        '[checks.params."aws.tags.required"]\nrequired_tags = ["owner", "classification"]\n'
    )
    sources = ("--source", "aws.ec2.*", "--source", "aws.rds.*", "--source", "aws.s3.buckets")
    for _ in range(2):
        proc = annexa("collect", *sources, "--config", str(config), env=env)
        assert proc.returncode == 0, proc.stderr
    arns = {name: f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}" for name, iid in ids.items()}
    return {"tmp": tmp, "config": str(config), "arns": arns, "env": env}


def _by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in doc["assets"]}


@pytest.mark.slow
def test_inventory_lists_every_collected_resource_with_owner_and_classification(collected) -> None:
    doc = annexa_json("inventory", "--config", collected["config"])
    assert set(doc) == {"owner_tags", "classification_tags", "listings", "assets"}
    assets = _by_id(doc)
    api = assets[collected["arns"]["tagged"]]
    assert {k: v for k, v in api.items() if k not in ("evidence", "collected_at")} == {
        "system": "aws", "account": ACCOUNT, "region": REGION, "type": "AWS::EC2::Instance",
        "id": collected["arns"]["tagged"], "name": "api", "owner": "payments",
        "classification": "confidential", "tags": {"Name": "api", "classification": "confidential",
        "owner": "payments"}, "source": "aws.ec2.instances", "scope": f"aws:{ACCOUNT}:{REGION}",
    }  # fmt: skip
    assert len(api["evidence"]) == 64
    bare = assets[collected["arns"]["bare"]]
    assert (bare["owner"], bare["classification"], bare["tags"]) == ("", "", {})
    bucket = assets["arn:aws:s3:::ledger"]
    assert (bucket["type"], bucket["name"], bucket["region"]) == ("AWS::S3::Bucket", "ledger", "")
    # A source without an asset reader is listed too: the resource's id under the source's name.
    (ebs_default,) = [a for a in doc["assets"] if a["source"] == "aws.ec2.ebs_encryption_default"]
    assert (
        ebs_default["type"] == "aws.ec2.ebs_encryption_default" and ebs_default["name"] == ebs_default["id"]
    )
    # Only the newest listing of each source and scope: every resource once.
    assert sum(entry["resources"] for entry in doc["listings"]) == len(doc["assets"])
    assert len({(a["source"], a["id"]) for a in doc["assets"]}) == len(doc["assets"])


@pytest.mark.slow
def test_nothing_is_proven_before_the_first_run(collected) -> None:
    doc = annexa_json("inventory", "--as-of", "2020-01-01", "--config", collected["config"])
    assert doc["listings"] == [] and doc["assets"] == []


@pytest.mark.slow
def test_csv_and_xlsx_show_a_formula_in_a_tag_as_text(collected) -> None:
    tmp, config, hostile = collected["tmp"], collected["config"], collected["arns"]["hostile"]
    assert (
        annexa(
            "inventory", "--format", "csv", "--output", str(tmp / "inv.csv"), "--config", config
        ).returncode
        == 0
    )
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((tmp / "inv.csv").read_text(encoding="utf-8")))}
    assert rows[hostile]["owner"] == "'" + HOSTILE
    assert json.loads(rows[hostile]["tags"])["owner"] == HOSTILE  # the JSON cell starts with `{`
    assert rows[collected["arns"]["tagged"]]["owner"] == "payments"

    from openpyxl import load_workbook

    proc = annexa("inventory", "--format", "xlsx", "--out", str(tmp / "inv.xlsx"), "--config", config)
    assert proc.returncode == 0, proc.stderr
    sheet = load_workbook(tmp / "inv.xlsx", read_only=True)["Asset inventory"]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    header = table[0]
    (row,) = [r for r in table[1:] if r[header.index("id")] == hostile]
    assert row[header.index("owner")] == "'" + HOSTILE and row[header.index("type")] == "AWS::EC2::Instance"

    refused = annexa("inventory", "--format", "xlsx", "--config", config)
    assert refused.returncode == 2 and refused.stderr.strip().endswith(
        "--format xlsx needs --output FILE.xlsx"
    )
    wrong = annexa("inventory", "--format", "pdf", "--config", config)
    assert wrong.returncode == 2 and "is not one of json, csv, xlsx" in wrong.stderr


@pytest.mark.slow
def test_untagged_resources_fail_the_required_tags_check(collected) -> None:
    ncs = annexa_json("nc", "list", "--config", collected["config"])
    (nc,) = [n for n in ncs if n["check_id"] == "aws.tags.required"]
    arns = collected["arns"]
    assert arns["bare"] in nc["failing_resources"]  # with the default VPC and security group, untagged
    assert arns["tagged"] not in nc["failing_resources"] and arns["hostile"] not in nc["failing_resources"]
    assert set(nc["controls"]) == {"A.5.9", "A.5.12"} and nc["severity"] == "minor"
    shown = annexa_json("nc", "show", str(nc["id"]), "--config", collected["config"])
    assert shown["reasons"][arns["bare"]].endswith("lacks the required tag(s) owner, classification")


@pytest.fixture(scope="module")
def bundle(collected) -> Path:
    out = collected["tmp"] / "audit.zip"
    proc = annexa("export", "--out", str(out), "--config", collected["config"])
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
def test_the_bundle_carries_the_inventory_of_its_own_evidence(bundle, collected) -> None:
    with zipfile.ZipFile(bundle) as zf:
        doc = json.loads(zf.read("inventory.json"))
        table = zf.read("inventory.csv").decode()
        manifest = {f["path"] for f in json.loads(zf.read("manifest.json"))["files"]}
    assert {"inventory.json", "inventory.csv"} <= manifest
    assert (
        _by_id(doc)[collected["arns"]["tagged"]]
        == _by_id(annexa_json("inventory", "--config", collected["config"]))[collected["arns"]["tagged"]]
    )
    assert "'" + HOSTILE.replace('"', '""') in table
    report = annexa_json("verify", str(bundle), "--public-key", str(collected["tmp"] / "signing.pub"))
    assert report["ok"], report["problems"]


def _edited(doc: bytes, edit: Any) -> bytes:
    parsed = json.loads(doc)
    edit(parsed)
    return json.dumps(parsed, indent=1).encode()


@pytest.mark.slow
def test_verify_names_an_inventory_edited_and_re_signed(bundle, collected) -> None:
    tmp, key, tagged = collected["tmp"], collected["tmp"] / "signing.key", collected["arns"]["tagged"]

    def reown(doc: dict[str, Any]) -> None:
        next(a for a in doc["assets"] if a["id"] == tagged)["owner"] = "nobody"

    def drop(doc: dict[str, Any]) -> None:
        doc["assets"] = [a for a in doc["assets"] if a["id"] != collected["arns"]["bare"]]

    reowned = forge(bundle, tmp / "reowned.zip", key, {"inventory.json": lambda b: _edited(b, reown)})
    report = annexa_json("verify", str(reowned), "--public-key", str(tmp / "signing.pub"))
    assert not report["ok"]
    assert report["problems"] == [
        f'inventory.json: assets {tagged}: owner: says "nobody", the bundle\'s own runs give "payments"'
    ]
    dropped = forge(bundle, tmp / "dropped.zip", key, {"inventory.json": lambda b: _edited(b, drop)})
    problems = annexa_json("verify", str(dropped))["problems"]
    assert any(f"leaves out aws.ec2.instances {collected['arns']['bare']}" in p for p in problems), problems
    table = forge(
        bundle, tmp / "table.zip", key, {"inventory.csv": lambda b: b.replace(b"payments", b"nobody")}
    )
    assert annexa_json("verify", str(table))["problems"] == [
        "inventory.csv: differs from the inventory the bundle's evidence gives"
    ]
    gone = forge(bundle, tmp / "gone.zip", key, {}, drop=("inventory.json", "inventory.csv"))
    assert annexa_json("verify", str(gone))["problems"] == [
        "inventory.json, inventory.csv: not in the manifest, which format annexa-bundle/3 requires"
    ]
    no_table = forge(bundle, tmp / "no-table.zip", key, {}, drop=("inventory.csv",))
    assert annexa_json("verify", str(no_table))["problems"] == [
        "inventory.csv: not in the manifest, which format annexa-bundle/3 requires"
    ]
