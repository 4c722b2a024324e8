"""Cryptography, secrets and data-protection collectors against moto in server mode; botocore's Stubber
with the service model's real shapes only where moto cannot show what AWS answers (ACM's in-use flag,
MFA delete, a Redshift parameter group requiring SSL, access denied mid-listing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.errors import CollectorError
from collectors.aws import (
    acm,
    dynamodb,
    efs,
    opensearch,
    rds_snapshots,
    redshift,
    s3,
    secretsmanager,
    sns,
    sqs,
)
from collectors.aws.session import AwsRegion
from tests.aws_collect import collected, seeder, single_account

ACCOUNT = "123456789012"
REGION = "eu-west-1"


@pytest.fixture
def region(aws: str) -> AwsRegion:
    return AwsRegion(single_account(), REGION)


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _ec_certificate(domain: str, not_after: datetime) -> tuple[bytes, bytes]:
    """A self-signed P-256 certificate and its key, PEM-encoded, to import."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(datetime(2026, 1, 1, tzinfo=UTC)).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(pem), private


def test_acm_lists_every_key_type_with_expiry(region: AwsRegion) -> None:
    """Real AWS lists only RSA-2048 certificates unless asked for more key types (moto lists all
    unasked, but applies the filter it is given: an EC certificate shows the filter names EC too)."""
    client = seeder(region, "acm")
    rsa = client.request_certificate(DomainName="rsa.example.com")["CertificateArn"]
    body, key = _ec_certificate("ec.example.com", datetime(2027, 3, 1, tzinfo=UTC))
    ec_arn = client.import_certificate(Certificate=body, PrivateKey=key)["CertificateArn"]
    records = collected(acm.certificates, region)
    assert set(records) == {rsa, ec_arn}
    assert records[ec_arn] == {
        "DomainName": "ec.example.com", "Status": "ISSUED", "Type": "IMPORTED", "KeyAlgorithm": "EC_prime256v1",
        "RenewalEligibility": "INELIGIBLE", "InUse": False, "NotAfter": "2027-03-01T00:00:00+00:00",
    }  # fmt: skip
    assert records[rsa]["DomainName"] == "rsa.example.com" and records[rsa]["Type"] == "AMAZON_ISSUED"


def test_acm_in_use_and_expiry_as_aws_answers(region: AwsRegion) -> None:
    """moto records no certificate's users: the summary AWS sends for one in use, through Stubber."""
    client = region.client("acm")
    cert = _arn("acm", "certificate/c1")
    with Stubber(client) as stub:
        stub.add_response("list_certificates", {"CertificateSummaryList": [
            {"CertificateArn": cert, "DomainName": "www.example.com", "Status": "ISSUED", "Type": "IMPORTED",
             "KeyAlgorithm": "RSA-4096", "InUse": True, "RenewalEligibility": "INELIGIBLE",
             "NotAfter": datetime(2026, 12, 1, tzinfo=UTC)}]})  # fmt: skip
        assert collected(acm.certificates, region)[cert] == {
            "DomainName": "www.example.com", "Status": "ISSUED", "Type": "IMPORTED", "KeyAlgorithm": "RSA-4096",
            "RenewalEligibility": "INELIGIBLE", "InUse": True, "NotAfter": "2026-12-01T00:00:00+00:00",
        }  # fmt: skip


def test_secrets_rotation_settings(region: AwsRegion) -> None:
    client = seeder(region, "secretsmanager")
    still = client.create_secret(Name="static", SecretString="x")["ARN"]
    rotating = client.create_secret(Name="db", SecretString="x")["ARN"]
    client.rotate_secret(SecretId="db", RotationRules={"AutomaticallyAfterDays": 30})
    records = collected(secretsmanager.secrets, region)
    assert records[still]["RotationEnabled"] is False and records[still]["LastRotatedDate"] is None
    assert records[still]["CreatedDate"]
    assert records[rotating]["RotationEnabled"] is True and records[rotating]["AutomaticallyAfterDays"] == 30
    assert records[rotating]["LastRotatedDate"]


def test_sqs_queues_sse_kms_sse_sqs_and_none(region: AwsRegion) -> None:
    client = seeder(region, "sqs")
    client.create_queue(QueueName="kms", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    client.create_queue(QueueName="managed")  # SSE-SQS is on by default, as in AWS
    client.create_queue(QueueName="plain", Attributes={"SqsManagedSseEnabled": "false"})
    records = collected(sqs.queues, region)
    assert records[_arn("sqs", "kms")]["KmsMasterKeyId"] == "alias/aws/sqs"
    assert records[_arn("sqs", "managed")] == {
        "QueueName": "managed",
        "KmsMasterKeyId": None,
        "SqsManagedSseEnabled": True,
    }
    assert records[_arn("sqs", "plain")]["SqsManagedSseEnabled"] is False


def test_sns_topics_with_and_without_key(region: AwsRegion) -> None:
    client = seeder(region, "sns")
    keyed = client.create_topic(Name="keyed", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    plain = client.create_topic(Name="plain")["TopicArn"]
    assert collected(sns.topics, region) == {
        keyed: {"TopicName": "keyed", "KmsMasterKeyId": "alias/aws/sns"},
        plain: {"TopicName": "plain", "KmsMasterKeyId": None},
    }


def test_dynamodb_tables_key_type_and_point_in_time_recovery(region: AwsRegion) -> None:
    client = seeder(region, "dynamodb")
    key = seeder(region, "kms").create_key()["KeyMetadata"]["Arn"]
    common = {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    client.create_table(TableName="owned", **common)
    client.create_table(
        TableName="cmk", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}, **common
    )
    client.update_continuous_backups(
        TableName="cmk", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    records = collected(dynamodb.tables, region)
    assert records[_arn("dynamodb", "table/owned")] == {
        "TableName": "owned",
        "SSEType": None,
        "SSEStatus": None,
        "KMSMasterKeyArn": None,
        "PointInTimeRecoveryStatus": "DISABLED",
    }
    cmk = records[_arn("dynamodb", "table/cmk")]
    assert (cmk["SSEType"], cmk["SSEStatus"], cmk["KMSMasterKeyArn"]) == ("KMS", "ENABLED", key)
    assert cmk["PointInTimeRecoveryStatus"] == "ENABLED"


def test_efs_encryption_and_backup_policy_absent_or_set(region: AwsRegion) -> None:
    client = seeder(region, "efs")
    plain = client.create_file_system(CreationToken="plain")
    backed = client.create_file_system(CreationToken="backed", Encrypted=True, Backup=True)
    records = collected(efs.file_systems, region)
    assert records[plain["FileSystemArn"]]["Encrypted"] is False
    assert records[plain["FileSystemArn"]]["BackupPolicyStatus"] == "DISABLED"  # PolicyNotFound
    assert records[backed["FileSystemArn"]]["Encrypted"] is True
    assert records[backed["FileSystemArn"]]["BackupPolicyStatus"] == "ENABLED"


def test_efs_backup_policy_access_denied_fails_the_listing(region: AwsRegion) -> None:
    client = region.client("efs")
    fs = {"FileSystemId": "fs-1", "FileSystemArn": _arn("elasticfilesystem", "file-system/fs-1"),
          "OwnerId": ACCOUNT, "CreationToken": "t", "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
          "LifeCycleState": "available", "NumberOfMountTargets": 0, "SizeInBytes": {"Value": 0},
          "PerformanceMode": "generalPurpose", "Tags": []}  # fmt: skip
    with Stubber(client) as stub:
        stub.add_response("describe_file_systems", {"FileSystems": [fs]})
        stub.add_client_error("describe_backup_policy", "AccessDeniedException", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: elasticfilesystem:DescribeBackupPolicy$"):
            list(efs.file_systems(region))


def test_redshift_clusters_encryption_exposure_logging_and_parameter_groups(region: AwsRegion) -> None:
    """moto cannot change a parameter group (ModifyClusterParameterGroup is not implemented): every
    group says require_ssl false here; a group requiring SSL is shown through Stubber below."""
    client = seeder(region, "redshift")
    common = {"NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd-not-real"}
    client.create_cluster_parameter_group(
        ParameterGroupName="strict", ParameterGroupFamily="redshift-1.0", Description="strict"
    )
    client.create_cluster(ClusterIdentifier="safe", Encrypted=True, PubliclyAccessible=False,
                          ClusterParameterGroupName="strict", **common)  # fmt: skip
    client.create_cluster(ClusterIdentifier="open", PubliclyAccessible=True, **common)
    client.enable_logging(
        ClusterIdentifier="safe", LogDestinationType="cloudwatch", LogExports=["connectionlog"]
    )
    records = collected(redshift.clusters, region)
    safe, open_ = records[_arn("redshift", "cluster:safe")], records[_arn("redshift", "cluster:open")]
    assert (safe["Encrypted"], safe["PubliclyAccessible"]) == (True, False)
    assert (safe["LoggingEnabled"], safe["LogDestinationType"]) == (True, "cloudwatch")
    assert safe["ClusterParameterGroups"] == [
        {"ParameterGroupName": "strict", "ParameterApplyStatus": "in-sync", "require_ssl": "false"}
    ]
    assert open_ == {
        "ClusterIdentifier": "open", "ClusterStatus": "available", "KmsKeyId": None, "Encrypted": False,
        "PubliclyAccessible": True, "LoggingEnabled": False, "LogDestinationType": None,
        "ClusterParameterGroups": [
            {"ParameterGroupName": "default.redshift-1.0", "ParameterApplyStatus": "in-sync", "require_ssl": "false"}],
    }  # fmt: skip


def _redshift_cluster(name: str, group: str, applied: str = "in-sync") -> dict[str, Any]:
    return {"ClusterIdentifier": name, "ClusterStatus": "available", "Encrypted": True, "PubliclyAccessible": False,
            "ClusterParameterGroups": [{"ParameterGroupName": group, "ParameterApplyStatus": applied}]}  # fmt: skip


def _parameter(name: str, value: str) -> dict[str, Any]:
    return {"ParameterName": name, "ParameterValue": value, "Source": "user", "DataType": "boolean",
            "ApplyType": "static", "IsModifiable": True}  # fmt: skip


def test_redshift_reads_each_parameter_group_once_through_its_pages(aws: str) -> None:
    """Two clusters share a group whose require_ssl is on its second page, a third has its own group
    pending a reboot: each group is read once (Stubber fails on any call it was not given), in order
    with one worker."""
    target = AwsRegion(single_account(detail_concurrency=1), REGION)
    with Stubber(target.client("redshift")) as stub:
        stub.add_response("describe_clusters", {"Clusters": [
            _redshift_cluster("a", "shared"), _redshift_cluster("b", "shared"), _redshift_cluster("c", "new", "pending-reboot")]})  # fmt: skip
        stub.add_response("describe_cluster_parameters", {"Parameters": [_parameter("require_ssl", "true")]},
                          {"ParameterGroupName": "new"})  # fmt: skip
        stub.add_response("describe_cluster_parameters", {"Parameters": [_parameter("auto_analyze", "true")],
                          "Marker": "p2"}, {"ParameterGroupName": "shared"})  # fmt: skip
        stub.add_response("describe_cluster_parameters", {"Parameters": [_parameter("require_ssl", "true")]},
                          {"ParameterGroupName": "shared", "Marker": "p2"})  # fmt: skip
        logging_off = {"LoggingEnabled": False}
        for name, status in (("a", {"LoggingEnabled": True, "BucketName": "logs", "LogDestinationType": "s3"}),
                             ("b", logging_off), ("c", logging_off)):  # fmt: skip
            stub.add_response("describe_logging_status", status, {"ClusterIdentifier": name})
        records = collected(redshift.clusters, target)
        stub.assert_no_pending_responses()
    by_name = {r["ClusterIdentifier"]: r for r in records.values()}
    assert (
        by_name["a"]["ClusterParameterGroups"]
        == by_name["b"]["ClusterParameterGroups"]
        == [{"ParameterGroupName": "shared", "ParameterApplyStatus": "in-sync", "require_ssl": "true"}]
    )
    assert by_name["c"]["ClusterParameterGroups"] == [
        {"ParameterGroupName": "new", "ParameterApplyStatus": "pending-reboot", "require_ssl": "true"}
    ]
    assert [(by_name[n]["LoggingEnabled"], by_name[n]["LogDestinationType"]) for n in "abc"] == [
        (True, "s3"),
        (False, None),
        (False, None),
    ]


def test_redshift_parameters_access_denied_fails_the_listing(aws: str) -> None:
    """A parameter group that cannot be read is an error, never a cluster whose require_ssl is unset."""
    target = AwsRegion(single_account(), REGION)
    with Stubber(target.client("redshift")) as stub:
        stub.add_response("describe_clusters", {"Clusters": [_redshift_cluster("a", "shared")]})
        stub.add_client_error("describe_cluster_parameters", "AccessDenied", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: redshift:DescribeClusterParameters$"):
            list(redshift.clusters(target))


def test_opensearch_domains_in_batches_of_five(region: AwsRegion) -> None:
    client = seeder(region, "opensearch")
    for n in range(6):
        client.create_domain(
            DomainName=f"dom{n}",
            EncryptionAtRestOptions={"Enabled": n == 0},
            NodeToNodeEncryptionOptions={"Enabled": n == 0},
            DomainEndpointOptions={"EnforceHTTPS": n == 0},
        )
    records = collected(opensearch.domains, region)
    assert set(records) == {_arn("es", f"domain/dom{n}") for n in range(6)}
    first, other = records[_arn("es", "domain/dom0")], records[_arn("es", "domain/dom5")]
    assert (first["EncryptionAtRest"], first["NodeToNodeEncryption"], first["EnforceHTTPS"]) == (True,) * 3
    assert (other["EncryptionAtRest"], other["NodeToNodeEncryption"], other["EnforceHTTPS"]) == (False,) * 3


def test_opensearch_domains_log_publishing_and_fine_grained_access_control(region: AwsRegion) -> None:
    client = seeder(region, "opensearch")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/opensearch/"
    client.create_domain(
        DomainName="audited",
        AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": True,
                                 "MasterUserOptions": {"MasterUserName": "admin", "MasterUserPassword": "Not-real-1!"}},
        LogPublishingOptions={"AUDIT_LOGS": {"CloudWatchLogsLogGroupArn": f"{group}audit", "Enabled": True},
                              "ES_APPLICATION_LOGS": {"CloudWatchLogsLogGroupArn": f"{group}app", "Enabled": False}},
    )  # fmt: skip
    client.create_domain(DomainName="quiet")
    records = collected(opensearch.domains, region)
    audited, quiet = records[_arn("es", "domain/audited")], records[_arn("es", "domain/quiet")]
    assert audited["LogPublishing"] == {"AUDIT_LOGS": True, "ES_APPLICATION_LOGS": False}
    assert audited["AdvancedSecurity"] is True
    assert (quiet["LogPublishing"], quiet["AdvancedSecurity"]) == ({}, False)


def test_rds_snapshots_encryption_under_each_kind_s_own_name(region: AwsRegion) -> None:
    """AWS calls it `Encrypted` on DB snapshots and `StorageEncrypted` on DB cluster snapshots."""
    rds = seeder(region, "rds")
    login = {"MasterUsername": "app", "MasterUserPassword": "not-a-real-password-1"}
    for name, encrypted in (("sealed", True), ("plain", False)):
        rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
                               AllocatedStorage=20, StorageEncrypted=encrypted, **login)  # fmt: skip
        rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-db")
        rds.create_db_cluster(
            DBClusterIdentifier=name, Engine="aurora-postgresql", StorageEncrypted=encrypted, **login
        )
        rds.create_db_cluster_snapshot(
            DBClusterIdentifier=name, DBClusterSnapshotIdentifier=f"{name}-cluster"
        )
    records = collected(rds_snapshots.snapshots, region)
    sealed = records[_arn("rds", "snapshot:sealed-db")]
    assert sealed["Encrypted"] is True and sealed["KmsKeyId"] and "StorageEncrypted" not in sealed
    assert records[_arn("rds", "snapshot:plain-db")] == {
        "DBSnapshotIdentifier": "plain-db", "restore": [], "Encrypted": False, "KmsKeyId": None, "Tags": {}}  # fmt: skip
    sealed_cluster = records[_arn("rds", "cluster-snapshot:sealed-cluster")]
    assert sealed_cluster["StorageEncrypted"] is True and sealed_cluster["KmsKeyId"]
    assert "Encrypted" not in sealed_cluster
    assert records[_arn("rds", "cluster-snapshot:plain-cluster")]["StorageEncrypted"] is False


def _tls_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})  # fmt: skip


def test_bucket_protection_policy_object_lock_and_absences(aws: str) -> None:
    client = boto3.client("s3")
    where = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    client.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True, **where)
    client.put_object_lock_configuration(Bucket="locked", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}})  # fmt: skip
    client.put_bucket_policy(Bucket="locked", Policy=_tls_policy("locked"))
    client.create_bucket(Bucket="bare", **where)
    records = collected(s3.bucket_protection, single_account())
    locked = records["arn:aws:s3:::locked"]
    assert [s["Sid"] for s in locked["SecureTransportStatements"]] == ["TlsOnly"]
    assert locked["ObjectLockEnabled"] is True
    assert locked["ObjectLockDefaultRetention"]["Days"] == 30  # moto adds "Years": 0
    assert records["arn:aws:s3:::bare"] == {
        "Name": "bare",
        "SecureTransportStatements": [],
        "ObjectLockEnabled": False,
        "ObjectLockDefaultRetention": None,
        "MFADelete": "Disabled",
    }


def test_bucket_protection_mfa_delete_as_aws_answers(aws: str) -> None:
    """Turning MFA delete on needs the root user's MFA code, which moto cannot take: Stubber."""
    account = single_account()
    with Stubber(account.client("s3")) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "trail-logs", "BucketRegion": REGION}]})
        stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", http_status_code=404)
        stub.add_client_error(
            "get_object_lock_configuration", "ObjectLockConfigurationNotFoundError", http_status_code=404
        )
        stub.add_response("get_bucket_versioning", {"Status": "Enabled", "MFADelete": "Enabled"})
        [record] = collected(s3.bucket_protection, account).values()
        stub.assert_no_pending_responses()
    assert (record["MFADelete"], record["ObjectLockEnabled"], record["SecureTransportStatements"]) == (
        "Enabled",
        False,
        [],
    )


def test_bucket_policy_access_denied_is_not_absence(aws: str) -> None:
    account = single_account()
    with Stubber(account.client("s3")) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "locked", "BucketRegion": REGION}]})
        stub.add_client_error("get_bucket_policy", "AccessDenied", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: s3:GetBucketPolicy$"):
            list(s3.bucket_protection(account))
