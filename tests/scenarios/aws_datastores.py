"""Scenarios for the AWS data-store checks (RDS snapshots, Redshift, OpenSearch), with records shaped
exactly as the rds_snapshots, redshift and opensearch collectors emit them.

A record without a field a check reads was collected before the collector kept it: `error`.
"""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record
from tests.scenarios import ERROR, FAIL, NA, PASS, Scenario
from tests.scenarios.aws_services import REGION_SCOPE, arn, ids, regional

SNAPSHOTS, CLUSTERS, DOMAINS = "aws.rds.snapshots", "aws.redshift.clusters", "aws.opensearch.domains"
AUDIT = {"CloudWatchLogsLogGroupArn": "arn:aws:logs:eu-west-1:123456789012:log-group:audit", "Enabled": True}


def snapshot(name: str, encrypted: bool = True, cluster: bool = False) -> Record:
    kind, flag = ("DBCluster", "StorageEncrypted") if cluster else ("DB", "Encrypted")
    data = {
        f"{kind}SnapshotIdentifier": name,
        "restore": [],
        flag: encrypted,
        "KmsKeyId": arn("kms", "key/k") if encrypted else None,
        "Tags": {},
    }
    return Record(arn("rds", f"{'cluster-snapshot' if cluster else 'snapshot'}:{name}"), data)


def group(name: str = "ssl-on", require_ssl: str | None = "true", status: str = "in-sync") -> dict[str, Any]:
    return {"ParameterGroupName": name, "ParameterApplyStatus": status, "require_ssl": require_ssl}


def cluster(name: str, encrypted: bool = True, public: bool = False, logging: str | None = "cloudwatch",
            groups: list[dict[str, Any]] | None = None) -> Record:  # fmt: skip
    data = {
        "ClusterIdentifier": name,
        "ClusterStatus": "available",
        "KmsKeyId": "k" if encrypted else None,
        "Encrypted": encrypted,
        "PubliclyAccessible": public,
        "LoggingEnabled": logging is not None,
        "LogDestinationType": logging,
        "ClusterParameterGroups": [group()] if groups is None else groups,
    }
    return Record(arn("redshift", f"cluster:{name}"), data)


def domain(name: str, at_rest: bool = True, n2n: bool = True, https: bool = True,
           logs: dict[str, bool] | None = None, fgac: bool = True) -> Record:  # fmt: skip
    data = {
        "DomainName": name,
        "EngineVersion": "OpenSearch_2.13",
        "EncryptionAtRest": at_rest,
        "KmsKeyId": "k" if at_rest else None,
        "NodeToNodeEncryption": n2n,
        "EnforceHTTPS": https,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07",
        "LogPublishing": {"AUDIT_LOGS": True} if logs is None else logs,
        "AdvancedSecurity": fgac,
    }
    return Record(arn("es", f"domain/{name}"), data)


def before(record: Record, *keys: str) -> Record:
    """The record as collected before its collector kept `keys`."""
    return Record(record.resource_id, {k: v for k, v in record.data.items() if k not in keys})


# --- scenarios -------------------------------------------------------------------------------------

CL_GOOD, CL_BAD = cluster("good"), cluster("bad", encrypted=False, public=True)
DOM_GOOD, DOM_BAD, DOM_HTTP = (
    domain("good"),
    domain("bad", at_rest=False, n2n=False),
    domain("http", https=False),
)
DB_SEALED, DB_PLAIN = snapshot("nightly"), snapshot("export", encrypted=False)
CS_SEALED, CS_PLAIN = (
    snapshot("aurora", cluster=True),
    snapshot("aurora-plain", encrypted=False, cluster=True),
)
SNAP_OLD, CS_OLD = (
    before(snapshot("old"), "Encrypted"),
    before(snapshot("old-c", cluster=True), "StorageEncrypted"),
)
DOM_AUDIT_OFF = domain("audit-off", logs={"AUDIT_LOGS": False, "ES_APPLICATION_LOGS": True})
DOM_APP_ONLY, DOM_NO_FGAC = (
    domain("app-only", logs={"ES_APPLICATION_LOGS": True}),
    domain("open", logs={}, fgac=False),
)
DOM_OLD = before(domain("old"), "LogPublishing", "AdvancedSecurity")
CL_SILENT, CL_S3 = cluster("silent", logging=None), cluster("s3", logging="s3")
CL_OLD_LOG = before(cluster("old-log"), "LoggingEnabled", "LogDestinationType")
CL_DEFAULT = cluster("default", groups=[group("default.redshift-1.0", "false")])
CL_PENDING = cluster("pending", groups=[group("ssl-new", status="pending-reboot")])
CL_UNSET = cluster("unset", groups=[group("odd", None)])
CL_MIXED = cluster("mixed", groups=[group(), group("legacy", "false")])
CL_NO_GROUP, CL_NEW_DEFAULT = (
    cluster("nogroup", groups=[]),
    cluster("v2", groups=[group("default.redshift-2.0")]),
)
CL_OLD_SSL = before(cluster("old-ssl"), "ClusterParameterGroups")

SCENARIOS: list[Scenario] = [
    # Encryption at rest
    regional(
        "aws.redshift.cluster_encryption",
        "encrypted or not",
        {CLUSTERS: [CL_GOOD, CL_BAD]},
        ids((CL_GOOD, PASS), (CL_BAD, FAIL)),
    ),
    regional(
        "aws.opensearch.encryption_at_rest",
        "encrypted or not",
        {DOMAINS: [DOM_GOOD, DOM_BAD]},
        ids((DOM_GOOD, PASS), (DOM_BAD, FAIL)),
    ),
    regional("aws.opensearch.encryption_at_rest", "none", {DOMAINS: []}, {REGION_SCOPE: NA}),
    regional(
        "aws.rds.snapshot_encrypted",
        "DB and cluster snapshots, encrypted or not; listed before encryption was kept",
        {SNAPSHOTS: [DB_SEALED, DB_PLAIN, CS_SEALED, CS_PLAIN, SNAP_OLD, CS_OLD]},
        ids(
            (DB_SEALED, PASS),
            (DB_PLAIN, FAIL),
            (CS_SEALED, PASS),
            (CS_PLAIN, FAIL),
            (SNAP_OLD, ERROR),
            (CS_OLD, ERROR),
        ),
    ),
    regional("aws.rds.snapshot_encrypted", "no manual snapshots", {SNAPSHOTS: []}, {REGION_SCOPE: NA}),
    # OpenSearch
    regional(
        "aws.opensearch.encryption_in_transit",
        "both, neither, no https",
        {DOMAINS: [DOM_GOOD, DOM_BAD, DOM_HTTP]},
        ids((DOM_GOOD, PASS), (DOM_BAD, FAIL), (DOM_HTTP, FAIL)),
    ),
    regional(
        "aws.opensearch.audit_logging",
        "published; disabled, other logs only, no fine-grained access control; listed before logs were kept",
        {DOMAINS: [DOM_GOOD, DOM_AUDIT_OFF, DOM_APP_ONLY, DOM_NO_FGAC, DOM_OLD]},
        ids(
            (DOM_GOOD, PASS),
            (DOM_AUDIT_OFF, FAIL),
            (DOM_APP_ONLY, FAIL),
            (DOM_NO_FGAC, FAIL),
            (DOM_OLD, ERROR),
        ),
    ),
    regional("aws.opensearch.audit_logging", "none", {DOMAINS: []}, {REGION_SCOPE: NA}),
    # Redshift
    regional(
        "aws.redshift.not_publicly_accessible",
        "private or public",
        {CLUSTERS: [CL_GOOD, CL_BAD]},
        ids((CL_GOOD, PASS), (CL_BAD, FAIL)),
    ),
    regional(
        "aws.redshift.audit_logging",
        "to CloudWatch, to S3, off; listed before logging was kept",
        {CLUSTERS: [CL_GOOD, CL_S3, CL_SILENT, CL_OLD_LOG]},
        ids((CL_GOOD, PASS), (CL_S3, PASS), (CL_SILENT, FAIL), (CL_OLD_LOG, ERROR)),
    ),
    regional("aws.redshift.audit_logging", "none", {CLUSTERS: []}, {REGION_SCOPE: NA}),
    regional(
        "aws.redshift.require_ssl",
        "custom and 2.0 default groups require it; 1.0 default, pending reboot, unset, one of two; no group",
        {
            CLUSTERS: [
                CL_GOOD,
                CL_NEW_DEFAULT,
                CL_DEFAULT,
                CL_PENDING,
                CL_UNSET,
                CL_MIXED,
                CL_NO_GROUP,
                CL_OLD_SSL,
            ]
        },
        ids(
            (CL_GOOD, PASS),
            (CL_NEW_DEFAULT, PASS),
            (CL_DEFAULT, FAIL),
            (CL_PENDING, FAIL),
            (CL_UNSET, FAIL),
            (CL_MIXED, FAIL),
            (CL_NO_GROUP, ERROR),
            (CL_OLD_SSL, ERROR),
        ),
    ),
    regional("aws.redshift.require_ssl", "none", {CLUSTERS: []}, {REGION_SCOPE: NA}),
]
