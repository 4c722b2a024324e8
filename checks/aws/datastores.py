"""AWS checks on data stores: RDS snapshots, Redshift clusters and OpenSearch domains, judged for
encryption at rest and in transit, exposure and audit logging.

Evidence listed before its collector kept a field these checks read (a snapshot's encryption, a
cluster's logging) is `error`, never judged as if the setting were off or on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import or_nothing_to_judge
from checks.aws.crypto import REFUSE_CLEAR_TEXT, AtRestRow, flagged, register_at_rest
from checks.aws.data import ENCRYPTION_AT_REST

SNAPSHOTS = "aws.rds.snapshots"
CLUSTERS = "aws.redshift.clusters"
DOMAINS = "aws.opensearch.domains"
AUDIT_LOGS = "AUDIT_LOGS"  # the OpenSearch log type of audit events (LogPublishingOptions' key)


def _unstated(rec: Record, key: str, name: str, what: str) -> Result | None:
    """An error for a record without `key`: collected before the collector kept it, so unknown."""
    return None if key in rec.data else Result.error(rec.resource_id, f"{name} was listed without its {what}")


def _setting(rec: Record, key: str, name: str, what: str, on: bool, passed: str, failed: str) -> Result:
    """Pass with `passed` when the setting under `key` is `on`, else fail with `failed`; an error
    when the record does not state it."""
    return _unstated(rec, key, name, what) or Result.of(rec, passed=on, reason=passed if on else failed)


# --- Encryption at rest ---------------------------------------------------------------------------

AT_REST_FLAGS: tuple[AtRestRow, ...] = (
    ("aws.redshift.cluster_encryption", "Redshift clusters are encrypted at rest", CLUSTERS, "Encrypted",
     "ClusterIdentifier", "Redshift clusters", "A data warehouse concentrates the organisation's data; its "
     "storage and snapshots must be encrypted.", "Modify the cluster to enable encryption with a KMS key."),
    ("aws.opensearch.encryption_at_rest", "OpenSearch domains are encrypted at rest", DOMAINS, "EncryptionAtRest",
     "DomainName", "OpenSearch domains", "Search indexes hold copies of the documents and logs they index.",
     "Enable encryption at rest on the domain (OpenSearch or Elasticsearch 6.7 and later)."),
)  # fmt: skip
register_at_rest(AT_REST_FLAGS)


@check(
    "aws.rds.snapshot_encrypted",
    title="Manual RDS snapshots are encrypted",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[SNAPSHOTS],
    rationale="A manual snapshot is a full copy of the database, kept until someone deletes it and easily "
    "shared or copied; unencrypted, it and every database restored from it expose the data. Automated "
    "snapshots are not listed: they inherit the instance's encryption, which aws.rds.storage_encrypted judges.",
    remediation="DB snapshots: copy the snapshot with a KMS key (copy-db-snapshot --kms-key-id). DB cluster "
    "snapshots cannot be encrypted by copying: restore one to a cluster with a KMS key and snapshot that. "
    "Then delete the unencrypted snapshot, and encrypt the source database so its next snapshots are.",
)
@or_nothing_to_judge("manual RDS snapshots")
def rds_snapshot_encrypted(ev: Evidence) -> Iterator[Result]:
    """Every manual DB and DB cluster snapshot must be encrypted: AWS states it as `Encrypted` for DB
    snapshots and `StorageEncrypted` for cluster snapshots."""
    for snap in ev.records(SNAPSHOTS):
        cluster = snap.data.get("DBClusterSnapshotIdentifier")
        name = str(cluster or snap.data.get("DBSnapshotIdentifier"))
        key = "StorageEncrypted" if cluster else "Encrypted"
        passed = f"{name} is encrypted with KMS key {snap.data.get('KmsKeyId')}"
        yield _setting(
            snap, key, name, "encryption", bool(snap.data.get(key)), passed, f"{name} is not encrypted"
        )


# --- OpenSearch -----------------------------------------------------------------------------------


@check(
    "aws.opensearch.encryption_in_transit",
    title="OpenSearch domains encrypt traffic between nodes and require HTTPS",
    controls={"A.8.24": "Cryptography protects the domain's data in transit, between clients and nodes."},
    severity="minor",
    needs=[DOMAINS],
    rationale="Without node-to-node encryption and enforced HTTPS, queries and indexed data cross the "
    "network in clear text.",
    remediation="Enable node-to-node encryption and 'Require HTTPS for all traffic' on the domain.",
)
@or_nothing_to_judge("OpenSearch domains")
def opensearch_encryption_in_transit(ev: Evidence) -> Iterator[Result]:
    """Both node-to-node encryption and HTTPS enforcement must be on."""
    wanted = {"NodeToNodeEncryption": "node-to-node encryption", "EnforceHTTPS": "HTTPS enforcement"}
    for domain in ev.records(DOMAINS):
        off = [text for key, text in wanted.items() if not domain.data.get(key)]
        name = domain.data["DomainName"]
        reason = f"{name} lacks {' and '.join(off)}" if off else f"{name} encrypts all traffic in transit"
        yield Result.of(domain, passed=not off, reason=reason)


@check(
    "aws.opensearch.audit_logging",
    title="OpenSearch domains publish audit logs",
    controls={
        "A.8.15": "Audit logs record who searched, read or changed which indexes, who was refused, "
        "and changes to the domain's security settings.",
    },
    severity="minor",
    needs=[DOMAINS],
    rationale="Without audit logs nobody can tell afterwards who read or changed the indexed data, or "
    "who changed the domain's users and roles. AWS publishes audit logs (to CloudWatch Logs) only from "
    "domains with fine-grained access control.",
    remediation="Turn on fine-grained access control (it needs HTTPS, node-to-node encryption and "
    "encryption at rest), publish the domain's audit logs to a CloudWatch Logs group that OpenSearch may "
    "write to, and choose the audit categories to record in OpenSearch Dashboards.",
)
@or_nothing_to_judge("OpenSearch domains")
def opensearch_audit_logging(ev: Evidence) -> Iterator[Result]:
    """The domain must publish AUDIT_LOGS, enabled; a failing reason says when fine-grained access
    control, which audit logs require, is off."""
    for domain in ev.records(DOMAINS):
        name = domain.data["DomainName"]
        on = bool((domain.data.get("LogPublishing") or {}).get(AUDIT_LOGS))
        fgac = domain.data.get("AdvancedSecurity")
        why = "" if fgac else " (fine-grained access control, which AWS requires for them, is off)"
        passed, failed = (
            f"{name} publishes audit logs to CloudWatch Logs",
            f"{name} does not publish audit logs{why}",
        )
        yield _setting(domain, "LogPublishing", name, "log publishing", on, passed, failed)


# --- Redshift -------------------------------------------------------------------------------------


@check(
    "aws.redshift.not_publicly_accessible",
    title="Redshift clusters are not publicly accessible",
    controls={
        "A.8.20": "A public endpoint exposes the warehouse directly to the Internet.",
        "A.8.22": "Data warehouses belong in private subnets, segregated from Internet-facing tiers.",
    },
    severity="major",
    needs=[CLUSTERS],
    rationale="A publicly accessible cluster is one weak password away from a bulk data breach.",
    remediation="Modify the cluster to turn off public accessibility and reach it through private networking.",
)
@or_nothing_to_judge("Redshift clusters")
def redshift_not_public(ev: Evidence) -> Iterator[Result]:
    """Every cluster must have public accessibility off."""
    judge = flagged("PubliclyAccessible", "ClusterIdentifier", "publicly accessible", good=False)
    yield from map(judge, ev.records(CLUSTERS))


@check(
    "aws.redshift.audit_logging",
    title="Redshift clusters have audit logging on",
    controls={
        "A.8.15": "Audit logs record each connection to the warehouse and each change to its database "
        "users (with user activity logging, each query too).",
    },
    severity="minor",
    needs=[CLUSTERS],
    rationale="Without audit logging, who connected to the warehouse and what they did is kept only in "
    "system tables that the cluster rotates out within days, and that its own administrators can read.",
    remediation="Turn on audit logging for the cluster, to CloudWatch Logs or an S3 bucket; set "
    "enable_user_activity_logging to true in its parameter group to log each query too.",
)
@or_nothing_to_judge("Redshift clusters")
def redshift_audit_logging(ev: Evidence) -> Iterator[Result]:
    """DescribeLoggingStatus must say LoggingEnabled."""
    for cluster in ev.records(CLUSTERS):
        name = cluster.data["ClusterIdentifier"]
        where = cluster.data.get("LogDestinationType") or "a destination AWS did not name"
        on = bool(cluster.data.get("LoggingEnabled"))
        passed, failed = f"{name} writes audit logs to {where}", f"{name} has audit logging off"
        yield _setting(cluster, "LoggingEnabled", name, "logging status", on, passed, failed)


def _ssl_fault(group: dict[str, Any]) -> str | None:
    """Why a parameter group does not make its cluster refuse clear-text connections, if it does not."""
    name, value = group.get("ParameterGroupName"), group.get("require_ssl")
    if str(value).lower() != "true":
        return f"parameter group {name} has require_ssl {value or 'unset'}"
    status = group.get("ParameterApplyStatus")
    return (
        None
        if status == "in-sync"
        else f"parameter group {name} has require_ssl true, not in force ({status})"
    )


@check(
    "aws.redshift.require_ssl",
    title="Redshift clusters refuse connections without SSL",
    controls={
        "A.8.24": "Requiring SSL makes cryptography protect every client connection, not only those "
        "whose client asks for it.",
        "A.8.20": REFUSE_CLEAR_TEXT,
    },
    severity="minor",
    needs=[CLUSTERS],
    rationale="With require_ssl false, Redshift also accepts clear-text connections, so a client set up "
    "without SSL sends passwords, queries and results readable on the network. The cluster's parameter "
    "group decides. default.redshift-1.0 has require_ssl false and, like every default group, cannot be "
    "changed; since AWS's January 2025 change of security defaults, clusters created or restored without "
    "a named group get default.redshift-2.0, whose require_ssl is true. The check judges the value "
    "DescribeClusterParameters returns, whichever the group; a value pending a reboot is not yet in force.",
    remediation="Give the cluster a parameter group with require_ssl true (a custom one: default groups "
    "cannot be changed) and reboot it so the change applies; have clients connect with sslmode "
    "verify-full.",
)
@or_nothing_to_judge("Redshift clusters")
def redshift_require_ssl(ev: Evidence) -> Iterator[Result]:
    """Every parameter group of the cluster must have require_ssl true, applied (in-sync)."""
    for cluster in ev.records(CLUSTERS):
        name = cluster.data["ClusterIdentifier"]
        unknown = _unstated(cluster, "ClusterParameterGroups", name, "parameter groups")
        groups = cluster.data.get("ClusterParameterGroups") or []
        if unknown or not groups:
            yield unknown or Result.error(cluster.resource_id, f"{name}: AWS named no parameter group")
            continue
        faults = [f for f in map(_ssl_fault, groups) if f]
        named = ", ".join(str(g.get("ParameterGroupName")) for g in groups)
        shown = "; ".join(faults) if faults else f"parameter group {named} requires SSL"
        yield Result.of(cluster, passed=not faults, reason=f"{name}: {shown}")
