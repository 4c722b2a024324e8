"""AWS resources as assets: how the inventory reads each source's records, and the required-tags check.

The readers give each resource the type CloudFormation names it by (`AWS::EC2::Instance`), the
name people call it (its `Name` tag, else its own name or id) and its tags, where the collector
keeps them (`Tags`, a {key: value} object). The inventory (`annexa inventory`, every bundle's
inventory.json) reads owner and classification from those tags; `aws.tags.required` holds each
taggable resource to the tags the organisation says every asset must carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from agent.plugin import asset_reader, check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Asset, Record, Result, Status
from checks._judging import as_list

# Sources whose records carry `Tags`, and the type and own-name field of each resource they list.
TAGGED: dict[str, tuple[str, str]] = {
    "aws.ec2.instances": ("AWS::EC2::Instance", "InstanceId"),
    "aws.ec2.volumes": ("AWS::EC2::Volume", "VolumeId"),
    "aws.ec2.security_groups": ("AWS::EC2::SecurityGroup", "GroupName"),
    "aws.ec2.vpcs": ("AWS::EC2::VPC", "VpcId"),
    "aws.ec2.snapshots": ("AWS::EC2::Snapshot", "SnapshotId"),
    "aws.ec2.images": ("AWS::EC2::Image", "Name"),
    "aws.rds.instances": ("AWS::RDS::DBInstance", "DBInstanceIdentifier"),
}
# Sources the inventory lists but `aws.tags.required` does not judge: buckets' and IAM users' evidence
# has no tags (a call per bucket; a user's tags describe a person), and IAM roles are identities,
# whose tags the inventory shows (owner, classification) without holding them to the tag policy.
UNTAGGED: dict[str, tuple[str, str]] = {
    "aws.s3.buckets": ("AWS::S3::Bucket", "Name"),
    "aws.iam.users": ("AWS::IAM::User", "UserName"),
    "aws.iam.roles": ("AWS::IAM::Role", "RoleName"),
}
RDS_SNAPSHOTS = "aws.rds.snapshots"  # DB and DB cluster snapshots, told apart by their identifier field


def tags_of(record: Record) -> dict[str, str]:
    """The record's tags; none when its evidence keeps none. Anything but an object is malformed."""
    tags = record.data.get("Tags")
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise TypeError(f"Tags is {type(tags).__name__}, not an object")
    return {str(k): str(v) for k, v in tags.items()}


def _asset(kind: str, own_name: Any, record: Record) -> Asset:
    tags = tags_of(record)
    return Asset(kind, tags.get("Name") or str(own_name or record.resource_id), tags)


def _reader(kind: str, field: str) -> Callable[[Record], Asset]:
    def read(record: Record) -> Asset:
        return _asset(kind, record.data.get(field), record)

    read.__doc__ = f"A {kind}: named by its Name tag, else its {field}."
    return read


for _source, (_kind, _field) in {**TAGGED, **UNTAGGED}.items():
    asset_reader(_source)(_reader(_kind, _field))


@asset_reader(RDS_SNAPSHOTS)
def rds_snapshot(record: Record) -> Asset:
    """A manual DB snapshot, or a DB cluster snapshot (it names its `DBClusterSnapshotIdentifier`)."""
    cluster = record.data.get("DBClusterSnapshotIdentifier")
    if cluster:
        return _asset("AWS::RDS::DBClusterSnapshot", cluster, record)
    return _asset("AWS::RDS::DBSnapshot", record.data.get("DBSnapshotIdentifier"), record)


CHECKED = (*TAGGED, RDS_SNAPSHOTS)
PARAM = "required_tags"


@check(
    "aws.tags.required",
    title="Taggable AWS resources carry the tags every asset must have",
    controls={
        "A.5.9": "An inventory is only usable when each asset names its owner: tags are where AWS "
        "resources name theirs.",
        "A.5.12": "Information is protected by its classification only when each asset is labelled with it.",
    },
    severity="minor",
    needs=list(CHECKED),
    rationale="A resource without an owner or classification tag is one nobody answers for and "
    "nobody knows how to protect.",
    remediation="Tag the resource with each required key (a tag policy in AWS Organizations or "
    "tag-on-create in the deployment templates keeps new resources tagged).",
    params={PARAM: []},
)
def required_tags(ev: Evidence) -> Iterator[Result]:
    """Each tagged resource of the region fails naming every required tag it lacks or leaves empty;
    without required tags, the region is not applicable and the reason says how to set them."""
    required = as_list(ev.param(PARAM), PARAM)
    if not required:
        yield Result(
            ev.scope,
            Status.NOT_APPLICABLE,
            'no tags are required: set [checks.params."aws.tags.required"] required_tags = '
            '["owner", "classification"] to hold every taggable resource to them',
        )
        return
    judged = False
    for source in CHECKED:
        for record in ev.records(source):
            judged = True
            if "Tags" not in record.data:  # listed before the collector kept tags: unknown, never a pass
                yield Result.error(record.resource_id, f"{record.resource_id} was listed without its tags")
                continue
            tags, asset = tags_of(record), read_asset(record)
            missing = [key for key in required if not tags.get(key, "").strip()]
            reason = (
                f"{asset.type} {asset.name} lacks the required tag(s) {', '.join(missing)}"
                if missing
                else f"{asset.type} {asset.name} carries {', '.join(required)}"
            )
            yield Result.of(record, passed=not missing, reason=reason)
    if not judged:
        yield Result(ev.scope, Status.NOT_APPLICABLE, f"no taggable resources with their tags in {ev.scope}")


def read_asset(record: Record) -> Asset:
    """The record as this module's reader for its source reads it."""
    if record.source == RDS_SNAPSHOTS:
        return rds_snapshot(record)
    kind, field = TAGGED[record.source]
    return _asset(kind, record.data.get(field), record)
