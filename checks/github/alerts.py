"""Checks of the organisation's open alerts: vulnerable dependencies (Dependabot) and flaws found in
its own code (code scanning) are fixed within a deadline set by severity."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import age_days, days_ago
from checks._github import CODE_SCANNING, DEPENDABOT, SECURITY, repository
from checks._judging import or_nothing_to_judge

SERIOUS = ("critical", "high")
SEVERITIES = frozenset({*SERIOUS, "medium", "low"})


def _by_age(
    ev: Evidence, source: str, about: Callable[[Record], str], *, unrated: bool = False
) -> Iterator[Result]:
    """Each open alert of `source`: critical and high ones open longer than `max_age_days` (or since
    an unknown date) fail, lower severities and younger ones pass; `about(alert)` says what it is.
    A severity we do not know is an error; so is none, unless `unrated` allows it (a code-scanning
    rule that is not about security), when it passes like a low one."""
    limit = int(ev.param("max_age_days"))
    for alert in ev.records(source):
        severity = alert.data.get("severity")
        if severity not in SEVERITIES and not (unrated and severity is None):
            yield Result.error(alert.resource_id, f"{alert.resource_id}: unknown severity {severity!r}")
            continue
        age = age_days(alert.data.get("created_at"), ev.now)
        opened = f"open {days_ago(age)}" if age is not None else "open since an unknown date"
        subject = f"{alert.resource_id}: {about(alert)}, {opened}"
        if severity in SERIOUS:
            reason = f"{subject} (critical and high are fixed within {limit} days)"
            yield Result.of(alert, passed=age is not None and age <= limit, reason=reason)
        else:
            yield Result.of(alert, passed=True, reason=f"{subject} (no deadline below high)")


def _dependabot_coverage(ev: Evidence) -> Iterator[Result]:
    """One result per repository: are its Dependabot alerts on at all?"""
    open_alerts: dict[str, int] = {}
    for alert in ev.records(DEPENDABOT):
        open_alerts[repository(alert)] = open_alerts.get(repository(alert), 0) + 1
    for rec in ev.records(SECURITY):
        name, on = repository(rec), rec.data.get("dependabot_alerts")
        if on is None:
            yield Result.error(rec.resource_id, f"{name}: Dependabot alerts setting not visible to the token")
        elif on is True:
            yield Result.of(
                rec, passed=True, reason=f"{name}: Dependabot alerts on, {open_alerts.get(name, 0)} open"
            )
        else:
            yield Result.of(
                rec,
                passed=False,
                reason=f"{name}: Dependabot alerts are off: vulnerable dependencies go unseen",
            )


@check(
    "github.alerts.dependabot_overdue",
    title="Critical and high Dependabot alerts are fixed in time, and alerts are on",
    controls={
        "A.8.8": "Known vulnerabilities in dependencies are identified and remediated within a set time.",
        "A.5.21": "Third-party components of the software supply chain are kept free of known flaws.",
    },
    severity="minor",
    needs=[DEPENDABOT, SECURITY],
    rationale="A published vulnerability in a dependency comes with a public exploit path; every week open is "
    "exposure, and a repository with alerts off has no way of knowing.",
    remediation="Upgrade or patch the dependency (or dismiss the alert with the documented reason it does not "
    "apply); turn Dependabot alerts on for repositories that have them off.",
    params={"max_age_days": 30},
)
@or_nothing_to_judge("repositories or open Dependabot alerts")
def dependabot_overdue(ev: Evidence) -> Iterator[Result]:
    """Critical and high alerts older than the limit fail; lower severities and younger ones pass."""
    yield from _dependabot_coverage(ev)
    yield from _by_age(ev, DEPENDABOT, lambda a: f"{a.data.get('severity')} alert on {a.data.get('package')}")


def _code_alert(alert: Record) -> str:
    severity, tool = alert.data.get("severity"), alert.data.get("tool") or "code scanning"
    return f"{severity} {tool} alert" if severity else f"{tool} alert without a security severity"


@check(
    "github.alerts.code_scanning_overdue",
    title="Critical and high code-scanning alerts are fixed in time",
    controls={
        "A.8.8": "Vulnerabilities found in the organisation's own code are remediated within a set time.",
        "A.8.28": "Insecure code that analysis flags is corrected, not left in what gets built and deployed.",
        "A.8.29": "Findings of security testing during development are acted on before they age.",
    },
    severity="minor",
    needs=[CODE_SCANNING],
    rationale="A critical or high code-scanning alert is an exploitable flaw (injection, unsafe deserialisation, "
    "a hard-coded secret) in code that is already on the default branch; every week open is exposure.",
    remediation="Fix the flagged code (or dismiss the alert with the documented reason it is a false positive or "
    "not exploitable), and merge the fix to the default branch so code scanning closes the alert.",
    params={"max_age_days": 30},
)
@or_nothing_to_judge("open code-scanning alerts")
def code_scanning_overdue(ev: Evidence) -> Iterator[Result]:
    """Critical and high alerts older than the limit fail; lower, unrated and younger ones pass."""
    yield from _by_age(ev, CODE_SCANNING, _code_alert, unrated=True)
