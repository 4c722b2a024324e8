"""Checks of each repository: its default branch's protection, secret scanning, code scanning and the
deploy keys that can push to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Result
from checks._github import DEPLOY_KEYS, PROTECTION, SECURITY, repository, switched
from checks._judging import or_nothing_to_judge


def _protection_shortfalls(data: dict[str, Any], min_reviews: int) -> list[str]:
    reviews = int(data["required_approving_review_count"])
    short = [] if data.get("protected") is True else ["not protected"]
    if reviews < min_reviews:
        short.append(f"{reviews} approving review(s) required, fewer than {min_reviews}")
    if data.get("dismiss_stale_reviews") is not True:
        short.append("stale approvals are not dismissed by new commits")
    if data.get("enforce_admins") is not True:
        short.append("administrators can bypass the protection")
    return short


@check(
    "github.repos.branch_protection",
    title="Each repository's default branch takes changes only through reviewed pull requests",
    controls={
        "A.8.32": "Changes reach the main line only after approval, which the platform enforces.",
        "A.8.4": "Write access to the source is mediated: nobody, administrators included, pushes directly.",
        "A.8.25": "Peer review is a step of the secure development life cycle every change goes through.",
    },
    severity="minor",
    needs=[PROTECTION],
    rationale="Without an enforced review, one compromised account or one hurried push puts unreviewed code "
    "into what gets built and deployed.",
    remediation="Protect the default branch (a ruleset or branch protection): require pull requests with at least "
    "the configured number of approvals, dismiss stale approvals on new commits, and include administrators.",
    params={"min_reviews": 1},
)
@or_nothing_to_judge("repositories")
def branch_protection(ev: Evidence) -> Iterator[Result]:
    """Fail each repository naming every shortfall of its default branch's effective protection."""
    min_reviews = int(ev.param("min_reviews"))
    for rec in ev.records(PROTECTION):
        data = rec.data
        branch = f"{repository(rec)}: default branch {data.get('default_branch')}"
        short = _protection_shortfalls(data, min_reviews)
        if short:
            reason = f"{branch}: {'; '.join(short)}"
        else:
            checks = ", ".join(data.get("required_status_checks") or []) or "none"
            reason = (
                f"{branch}: {data['required_approving_review_count']} approving review(s) required "
                f"(minimum {min_reviews}), stale approvals dismissed, administrators included; "
                f"required status checks: {checks}"
            )
        yield Result.of(rec, passed=not short, reason=reason)


@check(
    "github.repos.secret_scanning",
    title="Secret scanning and push protection are on in every repository",
    controls={
        "A.8.12": "Credentials are kept from leaking through the code: pushes containing them are blocked.",
        "A.5.17": "Authentication information committed by mistake is detected and can be revoked.",
    },
    severity="minor",
    needs=[SECURITY],
    rationale="Tokens and keys committed to a repository are found by whoever can read it, and stay in its history.",
    remediation="Enable secret scanning and push protection for the repository (or for all repositories in the "
    "organisation's code security configuration); revoke any secret already reported.",
)
@or_nothing_to_judge("repositories")
def secret_scanning(ev: Evidence) -> Iterator[Result]:
    """Both on passes; either seen off fails; otherwise one the token could not see is an error."""
    for rec in ev.records(SECURITY):
        states = {
            "secret scanning": switched(rec.data.get("secret_scanning")),
            "push protection": switched(rec.data.get("push_protection")),
        }
        off = [name for name, on in states.items() if on is False]
        unknown = [name for name, on in states.items() if on is None]
        unseen = f" ({' and '.join(unknown)} not visible to the token)" if unknown else ""
        if off:
            yield Result.of(rec, passed=False, reason=f"{repository(rec)}: {' and '.join(off)} off{unseen}")
        elif unknown:
            yield Result.error(
                rec.resource_id, f"{repository(rec)}: {' and '.join(unknown)} not visible to the token"
            )
        else:
            yield Result.of(
                rec, passed=True, reason=f"{repository(rec)}: secret scanning and push protection on"
            )


@check(
    "github.repos.code_scanning",
    title="Code scanning runs where the plan offers it",
    controls={
        "A.8.28": "Secure coding is backed by static analysis of every change.",
        "A.8.29": "Security testing is part of development, not left to a later phase.",
        "A.8.26": "Application security requirements are checked automatically against the code.",
    },
    severity="ofi",
    needs=[SECURITY],
    rationale="Static analysis catches injection flaws and unsafe API use before they are merged.",
    remediation="Enable code scanning (CodeQL default setup, or another SARIF-producing analyser) for the repository.",
)
@or_nothing_to_judge("repositories")
def code_scanning(ev: Evidence) -> Iterator[Result]:
    """Enabled passes, disabled fails; a repository whose plan has no code scanning is not applicable."""
    for rec in ev.records(SECURITY):
        state = rec.data.get("code_scanning")
        if state == "unavailable":
            yield Result.not_applicable(rec, f"{repository(rec)}: code scanning is not offered by the plan")
        elif (on := switched(state)) is None:
            yield Result.error(rec.resource_id, f"{repository(rec)}: unknown code scanning state {state!r}")
        else:
            yield Result.of(rec, passed=on, reason=f"{repository(rec)}: code scanning {state}")


@check(
    "github.repos.deploy_keys_read_only",
    title="Deploy keys cannot push to repositories",
    controls={
        "A.8.4": "Write access to the source goes through reviewed, attributable accounts, not shared keys.",
        "A.5.17": "A key that can change the code is a credential no person is accountable for.",
    },
    severity="minor",
    needs=[DEPLOY_KEYS],
    rationale="A deploy key with write access pushes to the repository outside every review and branch rule "
    "that does not include it, and whoever holds the key file holds that access.",
    remediation="Replace the key with a read-only one (or a GitHub App with the narrowest permissions) and "
    "delete the key with write access.",
)
@or_nothing_to_judge("deploy keys")
def deploy_keys_read_only(ev: Evidence) -> Iterator[Result]:
    """A deploy key that can write fails; a read-only one passes."""
    for key in ev.records(DEPLOY_KEYS):
        read_only = key.data.get("read_only")
        name = f"{key.data['repository']}: deploy key {key.data['title']!r}"
        if not isinstance(read_only, bool):
            yield Result.error(key.resource_id, f"{name}: its access is not shown")
        else:
            yield Result.of(
                key, passed=read_only, reason=f"{name} is {'read-only' if read_only else 'able to push'}"
            )
