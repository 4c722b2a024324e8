"""Scenarios for `aws.tags.required`, with records shaped as the ec2, ec2_exposure, rds and
rds_snapshots collectors emit them (`Tags` a {key: value} object)."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record
from checks.aws.assets import CHECKED
from tests.scenarios import ERROR, FAIL, NA, PASS
from tests.scenarios.aws_services import REGION_SCOPE, arn, regional

CHECK = "aws.tags.required"
REQUIRED = {"required_tags": ["owner", "classification"]}
OWNED = {"owner": "payments", "classification": "confidential"}


def instance(iid: str, tags: dict[str, str] | None) -> Record:
    data: dict[str, Any] = {"InstanceId": iid, "State": "running", "HttpTokens": "required"}
    if tags is not None:
        data["Tags"] = tags
    return Record(arn("ec2", f"instance/{iid}"), data)


def db_snapshot(name: str, tags: dict[str, str], cluster: bool = False) -> Record:
    kind = "DBCluster" if cluster else "DB"
    resource = f"{'cluster-snapshot' if cluster else 'snapshot'}:{name}"
    return Record(arn("rds", resource), {f"{kind}SnapshotIdentifier": name, "restore": [], "Tags": tags})


def evidence(**by_source: list[Record]) -> dict[str, list[Record]]:
    """Every source the check needs, empty unless given (`ec2_instances` for aws.ec2.instances)."""
    return {s: by_source.get(s.removeprefix("aws.").replace(".", "_"), []) for s in CHECKED}


tagged = instance("i-tagged", {**OWNED, "Name": "api"})
untagged = instance("i-bare", {"Name": "batch"})
blank_owner = instance("i-blank", {"owner": " ", "classification": "internal"})
before_tags = instance("i-old", None)  # listed before the collector kept tags
sound_snapshot = db_snapshot("nightly", OWNED, cluster=True)
unowned_snapshot = db_snapshot("manual", {"classification": "restricted"})

SCENARIOS = [
    regional(
        CHECK,
        "each resource carries the required tags or fails naming those it lacks",
        evidence(
            ec2_instances=[tagged, untagged, blank_owner, before_tags],
            rds_snapshots=[sound_snapshot, unowned_snapshot],
        ),
        {
            tagged.resource_id: PASS,
            untagged.resource_id: FAIL,
            blank_owner.resource_id: FAIL,
            sound_snapshot.resource_id: PASS,
            unowned_snapshot.resource_id: FAIL,
            before_tags.resource_id: ERROR,
        },
        params=REQUIRED,
    ),
    regional(
        CHECK,
        "no tags required: the region is not applicable",
        evidence(ec2_instances=[untagged]),
        {REGION_SCOPE: NA},
    ),
    regional(
        CHECK,
        "listed without tags: unknown, never a pass",
        evidence(ec2_instances=[before_tags]),
        {before_tags.resource_id: ERROR},
        params=REQUIRED,
    ),
]
