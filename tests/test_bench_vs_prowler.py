"""bench/vs_prowler.py's reading of Prowler's output and its resource matching, on a few findings in
Prowler 5's own formats (OCSF JSON and the compliance CSV); Prowler itself is never installed here."""

from __future__ import annotations

import json

from bench.vs_prowler import FRAMEWORK, misses, prowler_side, same_resource

HEADER = "PROVIDER;ACCOUNTID;REGION;REQUIREMENTS_ID;STATUS;RESOURCEID;CHECKID;MUTED"


def _finding(check: str, service: str, uid: str, status: str = "FAIL", muted: bool = False) -> dict:
    return {
        "metadata": {"event_code": check},
        "status_code": status,
        "status": "Suppressed" if muted else "New",
        "resources": [{"uid": uid, "group": {"name": service}, "region": "us-east-1"}],
        "unmapped": {"compliance": {"ISO27001-2022": ["A.8.24"]}},
    }


def test_prowler_output_is_read_as_failing_controls_and_in_scope_resources(tmp_path):
    findings = [
        _finding("s3_bucket_default_encryption", "s3", "arn:aws:s3:::bad"),
        _finding(
            "cloudwatch_log_group_kms_encryption_enabled",
            "cloudwatch",
            "arn:aws:logs:us-east-1:123456789012:log-group:app:*",
        ),
        _finding(
            "networkfirewall_in_all_vpc", "networkfirewall", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"
        ),
        _finding("s3_bucket_object_versioning", "s3", "arn:aws:s3:::good", status="PASS"),
        _finding("s3_bucket_public_access", "s3", "arn:aws:s3:::muted", muted=True),
    ]
    (tmp_path / "prowler.ocsf.json").write_text(json.dumps(findings))
    (tmp_path / "compliance").mkdir()
    rows = ["aws;123456789012;us-east-1;A.8.24;FAIL;bad;s3_bucket_default_encryption;False",
            "aws;123456789012;us-east-1;A.8.1;FAIL;muted;s3_bucket_public_access;True",
            "aws;123456789012;us-east-1;A.8.10;PASS;good;s3_bucket_object_versioning;False",
            "aws;123456789012;us-east-1;A.5.5;MANUAL;root;account_maintain_current_contact_details;False"]  # fmt: skip
    (tmp_path / "compliance" / f"prowler_{FRAMEWORK}.csv").write_text("\n".join([HEADER, *rows]) + "\n")

    side, service_of = prowler_side(tmp_path, 12.5, 1024, services={"s3", "ec2", "logs"})

    assert (side.wall, side.rss) == (12.5, 1024)
    assert side.controls == {"A.8.24"}
    assert side.evaluated == {"A.8.1", "A.8.10", "A.8.24"}
    assert dict(side.failing) == {
        "s3_bucket_default_encryption": {"arn:aws:s3:::bad"},
        "cloudwatch_log_group_kms_encryption_enabled": {"arn:aws:logs:us-east-1:123456789012:log-group:app"},
    }
    assert service_of["networkfirewall_in_all_vpc"] == "networkfirewall"


def test_identifiers_prowler_makes_up_for_settings_become_annexa_s():
    account = "123456789012"
    assert (
        same_resource(f"arn:aws:iam:eu-west-1:{account}:password-policy")
        == f"arn:aws:iam::{account}:password-policy"
    )
    assert same_resource(f"arn:aws:securityhub:us-east-1:{account}:hub/unknown") == (
        f"arn:aws:securityhub:us-east-1:{account}:hub/default"
    )
    assert (
        same_resource(f"arn:aws:ec2:us-east-1:{account}:image/ami-1") == "arn:aws:ec2:us-east-1::image/ami-1"
    )
    assert same_resource(f"arn:aws:logs:eu-west-1:{account}:log-group") == f"aws:{account}"
    assert same_resource("arn:aws:s3:::bucket") == "arn:aws:s3:::bucket"


def test_a_miss_is_a_failing_resource_no_check_of_the_other_tool_fails():
    ours = {"a": {"r1", "r2"}, "b": {"r3"}}
    theirs = {"x": {"r1"}, "y": {"r3"}}
    assert misses(ours, theirs) == {"a": ["r2"]}
    assert misses(ours, {}) == {"a": ["r1", "r2"], "b": ["r3"]}
