"""The AWS IAM checks: their registration, the reasons an auditor reads, and the parsing helpers.

Every scenario's verdicts are checked by tests/test_check_scenarios.py.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.plugin.model import Record, Result, Status
from checks._dates import days_ago, days_between, parse_timestamp
from checks.aws._policy import allows_everything, as_list, statements
from tests.scenarios import CHECKS, Scenario, evaluate
from tests.scenarios import aws_iam as sc

IAM_CHECKS = sorted(c for c in CHECKS if c.startswith("aws.iam."))
CONTROL_IDS = {
    row["id"] for row in csv.DictReader((Path(__file__).parents[1] / "config" / "annex_a_2022.csv").open())
}


def test_the_nine_checks_are_registered_with_justified_controls() -> None:
    assert set(IAM_CHECKS) >= {
        "aws.iam.root_mfa",
        "aws.iam.root_access_keys",
        "aws.iam.console_user_without_mfa",
        "aws.iam.access_key_rotation",
        "aws.iam.unused_credentials",
        "aws.iam.password_policy",
        "aws.iam.user_admin_policy",
        "aws.iam.user_inline_policies",
        "aws.iam.user_direct_policies",
    }
    for check_id in IAM_CHECKS:
        spec = CHECKS[check_id]
        assert spec.controls and set(spec.controls) <= CONTROL_IDS, check_id
        assert all(why.strip() for why in spec.controls.values()), check_id
        assert spec.rationale and spec.remediation, check_id


def test_documented_defaults() -> None:
    assert CHECKS["aws.iam.access_key_rotation"].params == {"max_age_days": 90}
    assert CHECKS["aws.iam.unused_credentials"].params == {"max_unused_days": 90}
    policy = CHECKS["aws.iam.password_policy"].params
    assert policy["min_length"] == 14 and policy["reuse_prevention"] == 24
    assert CHECKS["aws.iam.user_admin_policy"].needs == ("aws.iam.users", "aws.iam.policies")


# --- reasons --------------------------------------------------------------------------------------


def reasons(check_id: str, records: dict[str, list[Record]], **params: object) -> dict[str, str]:
    found = evaluate(Scenario(check_id, "reasons", records, {}, params=dict(params)))
    return {r.resource_id: r.reason for r in found}


def results(check_id: str, records: dict[str, list[Record]]) -> dict[str, Result]:
    return {r.resource_id: r for r in evaluate(Scenario(check_id, "results", records, {}))}


def test_rotation_reason_names_user_key_age_and_limit() -> None:
    rows = sc.report(sc.report_row("bob", key1=sc.key(sc.ago(10)), key2=sc.key(sc.ago(120))))
    reason = reasons("aws.iam.access_key_rotation", rows)[sc.user_arn("bob")]
    assert reason == "bob: access key 2 last rotated 120 days ago (rotation limit 90 days)"


def test_unused_reason_lists_every_dormant_credential() -> None:
    row = sc.report_row(
        "hank",
        password=True,
        password_last_used="no_information",
        password_last_changed=sc.ago(100),
        key1=sc.key(sc.ago(300), sc.ago(150)),
        key2=sc.key(sc.ago(3), sc.ago(1)),
    )
    reason = reasons("aws.iam.unused_credentials", sc.report(row))[sc.user_arn("hank")]
    assert "console password never used since issued 100 days ago" in reason
    assert "access key 1 last used 150 days ago" in reason
    assert "access key 2" not in reason


def test_password_policy_reason_lists_every_shortfall() -> None:
    records = sc.password_policy(sc.WEAK_POLICY)
    reason = reasons("aws.iam.password_policy", records, require_character_classes=True)[
        sc.PASSWORD_POLICY_ARN
    ]
    for shortfall in (
        "minimum length is 8, below 14",
        "password reuse is not prevented",
        "users cannot change their own password",
        "does not require symbols",
    ):
        assert shortfall in reason


def test_short_reuse_history_is_quantified() -> None:
    records = {
        sc.PASSWORD_POLICY: [
            Record(sc.PASSWORD_POLICY_ARN, sc.STRONG_POLICY | {"PasswordReusePrevention": 5})
        ]
    }
    reason = reasons("aws.iam.password_policy", records)[sc.PASSWORD_POLICY_ARN]
    assert reason.endswith("reuse prevention remembers 5 passwords, below 24")


def test_admin_reason_names_every_grant_and_cites_the_policies() -> None:
    user = sc.iam_user(
        "mallory",
        managed=(sc.AWS_ADMIN, sc.policy_arn("BreakGlass"), sc.policy_arn("ReportsReader")),
        inline={"everything": sc.ADMIN_STAR_STAR},
    )
    result = results("aws.iam.user_admin_policy", sc.iam([user], sc.CUSTOMER_POLICIES))[user.resource_id]
    assert result.status is Status.FAIL
    assert result.reason == (
        "mallory has full administrator access through AWS managed policy AdministratorAccess, "
        "customer managed policy 'BreakGlass', inline policy 'everything'"
    )
    assert len(result.evidence) == 3  # the user and both customer-managed policies consulted


def test_direct_and_inline_reasons_name_the_policies() -> None:
    user = sc.iam_user("bob", managed=(sc.AWS_READ_ONLY, sc.policy_arn("ReportsReader")), inline={"x": {}})
    records = {sc.USERS: [user]}
    assert reasons("aws.iam.user_direct_policies", records)[user.resource_id] == (
        "bob has managed policies attached directly: ReadOnlyAccess, ReportsReader"
    )
    assert reasons("aws.iam.user_inline_policies", records)[user.resource_id] == "bob has inline policies: x"


def test_root_row_is_never_judged_as_a_user() -> None:
    for check_id in (
        "aws.iam.console_user_without_mfa",
        "aws.iam.access_key_rotation",
        "aws.iam.unused_credentials",
    ):
        assert reasons(check_id, sc.report(sc.root_row())) == {}


def test_malformed_date_fails_closed() -> None:
    rows = sc.report(sc.report_row("bob", key1=sc.key("last tuesday")))
    with pytest.raises(ValueError, match="last tuesday"):
        reasons("aws.iam.access_key_rotation", rows)


# --- helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:20:30+00:00", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-01T10:20:30Z", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-01T12:20:30+02:00", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-01T10:20:30", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        (" 2026-03-01T10:20:30Z ", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize("sentinel", [None, "", "N/A", "no_information", "not_supported", "n/a"])
def test_parse_timestamp_sentinels_mean_never(sentinel: str | None) -> None:
    assert parse_timestamp(sentinel) is None


def test_parse_timestamp_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        parse_timestamp("yesterday")


def test_days_between_and_days_ago() -> None:
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert days_between(now - timedelta(days=90, hours=23), now) == 91  # calendar days: 2026-08-02 to 11-01
    assert days_between(datetime(2026, 11, 1, 1, tzinfo=timezone(timedelta(hours=2))), now) == 1  # 10-31 UTC
    first, last = datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    for early, late in (0, 23), (23, 0):  # the time of day on either side changes nothing
        assert days_between(first + timedelta(hours=early, minutes=30), last + timedelta(hours=late)) == 30
    assert (days_ago(1), days_ago(0), days_ago(30)) == ("1 day ago", "0 days ago", "30 days ago")


def test_statements_and_as_list() -> None:
    one = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert statements({"Statement": one}) == [one]
    assert statements({"Statement": [one, "junk"]}) == [one]
    assert statements(None) == statements({}) == []
    assert as_list("x") == ["x"] and as_list(["x", "y"]) == ["x", "y"] and as_list(None) == []


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (sc.ADMIN_DICT, True),
        (sc.ADMIN_IN_LISTS, True),
        (sc.ADMIN_STAR_STAR, True),
        (
            sc.doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"x": "y"}}}),
            True,
        ),
        (sc.READ_ONLY, False),
        (sc.STAR_ON_ONE_BUCKET, False),
        (sc.DENY_ALL, False),
        (sc.doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}), False),
        (sc.doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), False),
        (sc.doc([]), False),
        (None, False),
    ],
)
def test_allows_everything(document: dict[str, object] | None, expected: bool) -> None:
    assert allows_everything(document) is expected
