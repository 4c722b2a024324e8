"""Scenarios for the AWS IAM checks, with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario

ACCOUNT = "123456789012"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
PASSWORD_POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:password-policy"
AWS_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
AWS_READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"

CREDENTIAL_REPORT = "aws.iam.credential_report"
ACCOUNT_SUMMARY = "aws.iam.account_summary"
PASSWORD_POLICY = "aws.iam.password_policy"
USERS = "aws.iam.users"
POLICIES = "aws.iam.policies"


def ago(days: int, *, zulu: bool = False) -> str:
    """A credential-report timestamp `days` before NOW, as AWS writes it (or with a `Z` suffix)."""
    stamp = (NOW - timedelta(days=days)).isoformat()
    return stamp.replace("+00:00", "Z") if zulu else stamp


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


# --- credential report ----------------------------------------------------------------------------


def key(rotated: str = "N/A", used: str = "N/A", *, active: bool = True) -> dict[str, str]:
    """One access-key slot of a credential-report row."""
    return {"active": str(active).lower(), "last_rotated": rotated, "last_used_date": used}


NO_KEY = key(active=False)
DEACTIVATED_KEY = key(ago(900), ago(800), active=False)  # old and idle, but no longer usable
LONG_AGO = ago(400)


def report_row(
    user: str,
    *,
    password: bool = False,
    mfa: bool = False,
    password_last_used: str = "N/A",
    password_last_changed: str = "N/A",
    created: str = LONG_AGO,
    key1: dict[str, str] = NO_KEY,
    key2: dict[str, str] = NO_KEY,
) -> Record:
    data: dict[str, Any] = {
        "user": user,
        "arn": user_arn(user),
        "user_creation_time": created,
        "password_enabled": str(password).lower(),
        "password_last_used": password_last_used,
        "password_last_changed": password_last_changed,
        "password_next_rotation": "N/A",
        "mfa_active": str(mfa).lower(),
    }
    for n, slot in ((1, key1), (2, key2)):
        used = slot["last_used_date"] != "N/A"
        data |= {
            f"access_key_{n}_active": slot["active"],
            f"access_key_{n}_last_rotated": slot["last_rotated"],
            f"access_key_{n}_last_used_date": slot["last_used_date"],
            f"access_key_{n}_last_used_region": "eu-west-1" if used else "N/A",
            f"access_key_{n}_last_used_service": "s3" if used else "N/A",
        }
    data |= {f"cert_{n}_{f}": v for n in (1, 2) for f, v in (("active", "false"), ("last_rotated", "N/A"))}
    return Record(resource_id=data["arn"], data=data)


def root_row() -> Record:
    """Real AWS's `<root_account>` row, which user checks must skip (root has its own checks)."""
    row = report_row("<root_account>", mfa=True, password_last_used=ago(3), key1=key(ago(900), ago(800)))
    return Record(ROOT_ARN, row.data | {"arn": ROOT_ARN, "password_enabled": "not_supported"})


def report(*rows: Record) -> dict[str, list[Record]]:
    return {CREDENTIAL_REPORT: list(rows)}


def cred(
    check_id: str, name: str, rows: list[Record], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, report(*rows), expected, params=params)


# --- account summary and password policy ----------------------------------------------------------


def summary_scenario(check_id: str, name: str, status: Status, **flags: int | None) -> Scenario:
    """A scenario over the account summary of a tidy account, with `flags` changed (None: absent)."""
    data = {"Users": 12, "Groups": 3, "Policies": 5, "AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}
    data = {k: v for k, v in (data | flags).items() if v is not None}
    return Scenario(check_id, name, {ACCOUNT_SUMMARY: [Record(ROOT_ARN, data)]}, {ROOT_ARN: status})


STRONG_POLICY: dict[str, Any] = {
    "present": True,
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "ExpirePasswords": False,
    "PasswordReusePrevention": 24,
}
# What an account gets when someone ticks a few boxes in the console and stops there.
WEAK_POLICY: dict[str, Any] = {
    "present": True,
    "MinimumPasswordLength": 8,
    "RequireSymbols": False,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False,
    "ExpirePasswords": False,
}


def password_policy(data: dict[str, Any]) -> dict[str, list[Record]]:
    return {PASSWORD_POLICY: [Record(PASSWORD_POLICY_ARN, data)]}


def policy_scenario(name: str, data: dict[str, Any], status: Status, **params: Any) -> Scenario:
    """A scenario over the account's one password-policy record."""
    records = password_policy(data)
    return Scenario("aws.iam.password_policy", name, records, {PASSWORD_POLICY_ARN: status}, params=params)


# --- users and customer-managed policies ----------------------------------------------------------


def doc(statement: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statement}


ADMIN_DICT = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
ADMIN_IN_LISTS = doc(
    [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
        {"Effect": "Allow", "Action": ["ec2:Describe*", "*"], "Resource": ["*"]},
    ]
)
ADMIN_STAR_STAR = doc([{"Effect": "Allow", "Action": "*:*", "Resource": "*"}])
READ_ONLY = doc([{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}])
STAR_ON_ONE_BUCKET = doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::scratch/*"})
DENY_ALL = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})


def iam_user(
    name: str,
    *,
    groups: tuple[str, ...] = ("engineers",),
    managed: tuple[str, ...] = (),
    inline: dict[str, dict[str, Any]] | None = None,
) -> Record:
    data = {
        "UserName": name,
        "UserId": f"AIDA{name.upper()}",
        "Arn": user_arn(name),
        "CreateDate": LONG_AGO,
        "GroupList": list(groups),
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in managed],
        "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "PermissionsBoundary": None,
    }
    return Record(resource_id=data["Arn"], data=data)


def customer_policy(name: str, document: dict[str, Any]) -> Record:
    data = {
        "PolicyName": name,
        "Arn": policy_arn(name),
        "AttachmentCount": 1,
        "IsAttachable": True,
        "DefaultVersionDocument": document,
    }
    return Record(resource_id=data["Arn"], data=data)


def iam(users: list[Record], policies: list[Record] | None = None) -> dict[str, list[Record]]:
    return {USERS: users, POLICIES: policies or []}


CUSTOMER_POLICIES = [
    customer_policy("ReportsReader", READ_ONLY),
    customer_policy("ScratchBucket", STAR_ON_ONE_BUCKET),
    customer_policy("DenyEverything", DENY_ALL),
    customer_policy("BreakGlass", ADMIN_DICT),
    customer_policy("PlatformOps", ADMIN_IN_LISTS),
]


SCENARIOS: list[Scenario] = [
    # --- root user ---
    summary_scenario("aws.iam.root_mfa", "root has MFA", PASS),
    summary_scenario("aws.iam.root_mfa", "root without MFA", FAIL, AccountMFAEnabled=0),
    summary_scenario("aws.iam.root_mfa", "flag missing never passes", FAIL, AccountMFAEnabled=None),
    Scenario("aws.iam.root_mfa", "no summary is an error", {ACCOUNT_SUMMARY: []}, {f"aws:{ACCOUNT}": ERROR}),
    summary_scenario("aws.iam.root_access_keys", "root has no keys", PASS),
    summary_scenario("aws.iam.root_access_keys", "root has keys", FAIL, AccountAccessKeysPresent=1),
    # --- console users and MFA ---
    cred(
        "aws.iam.console_user_without_mfa",
        "console users have MFA",
        [
            root_row(),
            report_row("alice", password=True, mfa=True, password_last_used=ago(1)),
            report_row("ci-deployer", key1=key(ago(10), ago(1))),
        ],
        {user_arn("alice"): PASS, user_arn("ci-deployer"): NA},
    ),
    cred(
        "aws.iam.console_user_without_mfa",
        "console user without MFA",
        [
            report_row("alice", password=True, mfa=True),
            report_row("bob", password=True, password_last_used="no_information"),
            report_row("carol", mfa=True),
        ],
        {user_arn("alice"): PASS, user_arn("bob"): FAIL, user_arn("carol"): NA},
    ),
    # --- access-key rotation ---
    cred(
        "aws.iam.access_key_rotation",
        "keys rotated in time",
        [
            root_row(),
            report_row("alice", key1=key(ago(30), ago(1))),
            report_row("boundary", key1=key(ago(90))),
            report_row("carol", password=True),
            report_row("dave", key1=DEACTIVATED_KEY),
        ],
        {user_arn("alice"): PASS, user_arn("boundary"): PASS, user_arn("carol"): NA, user_arn("dave"): NA},
    ),
    cred(
        "aws.iam.access_key_rotation",
        "stale keys",
        [
            report_row("bob", key1=key(ago(120), ago(2))),
            report_row("erin", key1=NO_KEY, key2=key(ago(100, zulu=True))),
            report_row("frank", key1=key(ago(10)), key2=key(ago(91))),
            report_row("gina", key1=key(ago(10)), key2=DEACTIVATED_KEY),
            report_row("odd", key1=key("N/A")),
        ],
        {
            user_arn("bob"): FAIL,
            user_arn("erin"): FAIL,
            user_arn("frank"): FAIL,
            user_arn("gina"): PASS,
            user_arn("odd"): FAIL,
        },
    ),
    cred(
        "aws.iam.access_key_rotation",
        "stricter limit fails a 45-day key",
        [report_row("alice", key1=key(ago(45)))],
        {user_arn("alice"): FAIL},
        max_age_days=30,
    ),
    cred(
        "aws.iam.access_key_rotation",
        "laxer limit passes a 120-day key",
        [report_row("bob", key1=key(ago(120)))],
        {user_arn("bob"): PASS},
        max_age_days=180,
    ),
    # --- unused credentials ---
    cred(
        "aws.iam.unused_credentials",
        "credentials in use",
        [
            root_row(),
            report_row("alice", password=True, password_last_used=ago(5), key1=key(ago(300), ago(10))),
            report_row("new-joiner", password=True, password_last_used="no_information", created=ago(10)),
            report_row("svc", key1=NO_KEY, key2=key(ago(30, zulu=True), "N/A")),
            report_row(
                "retired-key", password=True, password_last_used=ago(1), key1=key(ago(900), active=False)
            ),
            report_row("carol"),
        ],
        {
            user_arn("alice"): PASS,
            user_arn("new-joiner"): PASS,
            user_arn("svc"): PASS,
            user_arn("retired-key"): PASS,
            user_arn("carol"): NA,
        },
    ),
    cred(
        "aws.iam.unused_credentials",
        "dormant credentials",
        [
            report_row("bob", password=True, password_last_used=ago(200)),
            report_row("gina", key2=key(ago(120))),
            report_row("hank", password=True, password_last_used="no_information", created=ago(100)),
            report_row(
                "ivan",
                password=True,
                password_last_used=ago(1),
                password_last_changed=ago(50),
                key1=key(ago(300), ago(95, zulu=True)),
            ),
        ],
        {user_arn("bob"): FAIL, user_arn("gina"): FAIL, user_arn("hank"): FAIL, user_arn("ivan"): FAIL},
    ),
    cred(
        "aws.iam.unused_credentials",
        "a year's tolerance passes a 200-day-old password",
        [report_row("bob", password=True, password_last_used=ago(200))],
        {user_arn("bob"): PASS},
        max_unused_days=365,
    ),
    # --- password policy ---
    policy_scenario("strong policy", STRONG_POLICY, PASS),
    policy_scenario("no policy", {"present": False}, FAIL),
    policy_scenario("weak policy", WEAK_POLICY, FAIL),
    policy_scenario(
        "laxer organisation policy accepts 8 characters",
        WEAK_POLICY | {"AllowUsersToChangePassword": True},
        PASS,
        min_length=8,
        reuse_prevention=0,
    ),
    policy_scenario(
        "character classes required by the organisation",
        STRONG_POLICY | {"RequireSymbols": False},
        FAIL,
        require_character_classes=True,
    ),
    policy_scenario(
        "character classes not required by default",
        STRONG_POLICY | {"RequireSymbols": False, "RequireNumbers": False},
        PASS,
    ),
    # --- administrator policies ---
    Scenario(
        "aws.iam.user_admin_policy",
        "least privilege",
        iam(
            [
                iam_user("alice", managed=(AWS_READ_ONLY, policy_arn("ReportsReader"))),
                iam_user("bob", inline={"scratch": STAR_ON_ONE_BUCKET, "guard": DENY_ALL}),
                iam_user("carol", managed=(policy_arn("ScratchBucket"), policy_arn("DenyEverything"))),
                iam_user("dave"),
            ],
            CUSTOMER_POLICIES,
        ),
        {user_arn(u): PASS for u in ("alice", "bob", "carol", "dave")},
    ),
    Scenario(
        "aws.iam.user_admin_policy",
        "administrators",
        iam(
            [
                iam_user("aws-admin", managed=(AWS_ADMIN,)),
                iam_user("gov-admin", managed=("arn:aws-us-gov:iam::aws:policy/AdministratorAccess",)),
                iam_user("break-glass", managed=(policy_arn("ReportsReader"), policy_arn("BreakGlass"))),
                iam_user("ops", managed=(policy_arn("PlatformOps"),)),
                iam_user("inline-dict", inline={"all": ADMIN_DICT}),
                iam_user("inline-star-star", inline={"all": ADMIN_STAR_STAR, "read": READ_ONLY}),
                iam_user("reader", managed=(policy_arn("ReportsReader"),)),
            ],
            CUSTOMER_POLICIES,
        ),
        {
            user_arn("aws-admin"): FAIL,
            user_arn("gov-admin"): FAIL,
            user_arn("break-glass"): FAIL,
            user_arn("ops"): FAIL,
            user_arn("inline-dict"): FAIL,
            user_arn("inline-star-star"): FAIL,
            user_arn("reader"): PASS,
        },
    ),
    Scenario(
        "aws.iam.user_admin_policy",
        "a policy that was not collected cannot be judged",
        iam([iam_user("eve", managed=(policy_arn("Missing"),))], CUSTOMER_POLICIES),
        {user_arn("eve"): ERROR},
    ),
    # --- how users receive permissions ---
    Scenario(
        "aws.iam.user_inline_policies",
        "no inline policies",
        {USERS: [iam_user("alice"), iam_user("bob", managed=(AWS_READ_ONLY,))]},
        {user_arn("alice"): PASS, user_arn("bob"): PASS},
    ),
    Scenario(
        "aws.iam.user_inline_policies",
        "inline policies",
        {USERS: [iam_user("alice"), iam_user("bob", inline={"scratch": STAR_ON_ONE_BUCKET})]},
        {user_arn("alice"): PASS, user_arn("bob"): FAIL},
    ),
    Scenario(
        "aws.iam.user_direct_policies",
        "permissions through groups",
        {USERS: [iam_user("alice"), iam_user("bob", inline={"scratch": STAR_ON_ONE_BUCKET})]},
        {user_arn("alice"): PASS, user_arn("bob"): PASS},
    ),
    Scenario(
        "aws.iam.user_direct_policies",
        "policies attached to users",
        {USERS: [iam_user("alice"), iam_user("bob", groups=(), managed=(AWS_READ_ONLY,))]},
        {user_arn("alice"): PASS, user_arn("bob"): FAIL},
    ),
]
