"""Helpers shared by the AWS checks: ARNs, the credential report's users, per-region settings, findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import age_days

WORLD = frozenset({"0.0.0.0/0", "::/0"})
CREDENTIAL_REPORT = "aws.iam.credential_report"
ROOT_ROW = "<root_account>"
IN_TRANSIT = "Plain HTTP sends the users' data and credentials readable to anyone on the path."
WAF = "A web application firewall filters the Internet's requests before they reach the application."


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def scope_account(scope: str) -> str:
    """`123456789012` for `aws:123456789012` and `aws:123456789012:eu-west-1`."""
    parts = scope.split(":")
    return parts[1] if len(parts) > 1 else scope


def judge_faults(rec: Record, name: str, faults: Sequence[str], fine: str) -> Result:
    """Fail naming every fault, else pass saying what was found fine."""
    return Result.of(rec, passed=not faults, reason=f"{name}: {'; '.join(faults) if faults else fine}")


def web_acl(rec: Record, name: str, acl: str | None) -> Result:
    """Pass when a WAF web ACL is associated with the resource."""
    return judge_faults(rec, name, [] if acl else ["no WAF web ACL is associated"], f"web ACL {acl}")


def report_users(ev: Evidence) -> Iterator[Record]:
    """The IAM users of the credential report; the root row is judged by the account-summary checks."""
    for row in ev.records(CREDENTIAL_REPORT):
        if row.data.get("user") != ROOT_ROW and not row.resource_id.endswith(":root"):
            yield row


def judge_each(ev: Evidence, source: str, what: str, judge: Callable[[Record], Result]) -> Iterator[Result]:
    """Judge the settings records a collector yields once per region or account.

    Such a collector always yields a record, so none at all means incomplete evidence: `error`.
    """
    records = ev.records(source)
    if not records:
        yield Result.error(ev.scope, f"no {what} record was collected for {ev.scope}")
        return
    for rec in records:
        yield judge(rec)


def judge_open(
    findings: Iterable[Record],
    now: datetime,
    limit: int,
    what: Callable[[Record], str],
    undated: str,
    dated: str,
) -> Iterator[Result]:
    """Each open finding passes while it is at most `limit` days old; one without a creation date fails.

    `what(finding)` names it; `undated` and `dated` (with `{age}` and `{limit}`) finish the reason.
    """
    for finding in findings:
        age = age_days(finding.data.get("CreatedAt"), now)
        subject = what(finding)
        if age is None:
            yield Result.of(finding, passed=False, reason=subject + undated)
        else:
            yield Result.of(finding, passed=age <= limit, reason=subject + dated.format(age=age, limit=limit))
