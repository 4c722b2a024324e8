"""Cryptography, secrets and data-protection resources for the seeded organization (tests/aws_org_seed.py):
one good resource of each kind in region 0, one bad in region 1, and the verdicts they must get.

Called once per account and region, after the account-level seeding (buckets, trails) and the RDS
instances of tests/aws_org_seed.py. ACM is not seeded: moto never marks a certificate in use, so the
check would only say "not in use". moto cannot change a Redshift parameter group, so every cluster
keeps require_ssl false and fails aws.redshift.require_ssl in both regions.
"""

from __future__ import annotations

import json
from typing import Any

from tests.aws_org_seed import FAIL, PASS, REGIONS, SeededOrg

MOTO_DYNAMODB_KEY = "Default master key that protects my DynamoDB table storage"
KEYED = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def seed(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> None:
    scope, verdict = f"aws:{acct}:{region}", PASS if good else FAIL
    arn = lambda svc, res: f"arn:aws:{svc}:{region}:{acct}:{res}"  # noqa: E731
    put = lambda check_id, resource, status=verdict: org.put(check_id, scope, resource, status)  # noqa: E731

    client("sqs", region).create_queue(
        QueueName="jobs", Attributes={"SqsManagedSseEnabled": str(good).lower()}
    )
    put("aws.sqs.queue_encryption", arn("sqs", "jobs"))
    sns = client("sns", region).create_topic(
        Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"} if good else {}
    )
    put("aws.sns.topic_encryption", sns["TopicArn"])

    ddb = client("dynamodb", region)
    ddb.create_table(TableName="orders", SSESpecification={"Enabled": good, "SSEType": "KMS"}, **KEYED)
    if good:
        ddb.update_continuous_backups(
            TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    put("aws.dynamodb.table_encryption", arn("dynamodb", "table/orders"))
    # moto makes DynamoDB's default key a customer-managed one (AWS manages it: aws/dynamodb), without rotation.
    kms = client("kms", region)
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("Description") == MOTO_DYNAMODB_KEY:
            put("aws.kms.key_rotation", meta["Arn"], FAIL)
    put("aws.dynamodb.point_in_time_recovery", arn("dynamodb", "table/orders"))

    fs = client("efs", region).create_file_system(CreationToken="share", Encrypted=good, Backup=good)
    put("aws.efs.encryption", fs["FileSystemArn"])
    put("aws.efs.backup_policy", fs["FileSystemArn"])

    redshift = client("redshift", region)
    redshift.create_cluster(ClusterIdentifier="warehouse", NodeType="dc2.large", MasterUsername="admin",
                            MasterUserPassword="Not-a-real-1", Encrypted=good, PubliclyAccessible=not good)  # fmt: skip
    if good:
        redshift.enable_logging(ClusterIdentifier="warehouse", LogDestinationType="cloudwatch",
                                LogExports=["connectionlog", "userlog"])  # fmt: skip
    for check_id in ("aws.redshift.cluster_encryption", "aws.redshift.not_publicly_accessible",
                     "aws.redshift.audit_logging"):  # fmt: skip
        put(check_id, arn("redshift", "cluster:warehouse"))
    put("aws.redshift.require_ssl", arn("redshift", "cluster:warehouse"), FAIL)  # default.redshift-1.0

    log_group = arn("logs", "log-group:search-audit")
    audited = {"LogPublishingOptions": {"AUDIT_LOGS": {"CloudWatchLogsLogGroupArn": log_group, "Enabled": True}},
               "AdvancedSecurityOptions": {"Enabled": True, "InternalUserDatabaseEnabled": True, "MasterUserOptions":
                                           {"MasterUserName": "admin", "MasterUserPassword": "Not-a-real-1!"}}}  # fmt: skip
    client("opensearch", region).create_domain(DomainName="search", EncryptionAtRestOptions={"Enabled": good},
                                               NodeToNodeEncryptionOptions={"Enabled": good},
                                               DomainEndpointOptions={"EnforceHTTPS": good},
                                               **(audited if good else {}))  # fmt: skip
    for check_id in ("aws.opensearch.encryption_at_rest", "aws.opensearch.encryption_in_transit",
                     "aws.opensearch.audit_logging"):  # fmt: skip
        put(check_id, arn("es", "domain/search"))

    # The encrypted instance's manual snapshot (region 0); tests/aws_org_seed_exposure.py snapshots an
    # unencrypted instance as "export" in both regions.
    if good:
        client("rds", region).create_db_snapshot(
            DBInstanceIdentifier="db-good", DBSnapshotIdentifier="db-good-manual"
        )
        for check_id in ("aws.rds.snapshot_encrypted", "aws.rds.snapshot_not_public"):
            put(check_id, arn("rds", "snapshot:db-good-manual"), PASS)
    put("aws.rds.snapshot_encrypted", arn("rds", "snapshot:export"), FAIL)

    secrets = client("secretsmanager", region)
    secret = secrets.create_secret(Name="db-password", SecretString="not-a-real-secret")["ARN"]
    if good:
        secrets.rotate_secret(SecretId=secret, RotationRules={"AutomaticallyAfterDays": 30})
    put("aws.secretsmanager.rotation", secret)

    if region == REGIONS[0]:
        _account_level(org, acct, client)


def _account_level(org: SeededOrg, acct: str, client: Any) -> None:
    """TLS-only policy on the good bucket; trails deliver to the unversioned log bucket."""
    scope, good = f"aws:{acct}", f"good-{acct}"
    client("s3").put_bucket_policy(Bucket=good, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{good}", f"arn:aws:s3:::{good}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))  # fmt: skip
    for name in (good, f"logs-{acct}", f"bad-{acct}"):
        org.put("aws.s3.bucket_tls_only", scope, f"arn:aws:s3:::{name}", PASS if name == good else FAIL)
    for trail in client("cloudtrail").describe_trails()["trailList"]:  # logs-<account>: unversioned
        org.put("aws.cloudtrail.log_bucket_protected", scope, trail["TrailARN"], FAIL)
