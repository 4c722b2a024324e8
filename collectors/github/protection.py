"""The effective protection of each repository's default branch: classic branch protection and the
active rulesets that target the branch, combined into one record.

A 404 "Branch not protected" (or "Branch not found", an empty repository) is evidence: nothing
classic protects it. Any other failure on any repository fails the listing, naming the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from agent.plugin import CollectorError, collector
from agent.plugin.model import Record
from collectors.github.client import full_name, message
from collectors.github.targets import GithubOrg

UNPROTECTED = ("branch not protected", "branch not found")


def _classic(org: GithubOrg, name: str, branch: str) -> dict[str, Any] | None:
    """The branch protection document, None when the branch has none."""
    path = f"/repos/{name}/branches/{quote(branch, safe='')}/protection"
    status, doc = org.api.answer(path, lambda status, doc: status == 404 and message(doc) in UNPROTECTED)
    return None if status == 404 else doc


def _contexts(checks: dict[str, Any] | None) -> set[str]:
    if not checks:
        return set()
    named = {c.get("context") for c in checks.get("checks") or [] if isinstance(c, dict)}
    return {str(c) for c in {*(checks.get("contexts") or []), *named} if c}


def effective(
    repo: dict[str, Any], classic: dict[str, Any] | None, rules: list[dict[str, Any]]
) -> dict[str, Any]:
    reviews = (classic or {}).get("required_pull_request_reviews") or {}
    pull_requests = [r.get("parameters") or {} for r in rules if r.get("type") == "pull_request"]
    checks = set(_contexts((classic or {}).get("required_status_checks")))
    for rule in rules:
        if rule.get("type") == "required_status_checks":
            required = (rule.get("parameters") or {}).get("required_status_checks") or []
            checks |= {str(c["context"]) for c in required if isinstance(c, dict) and c.get("context")}
    counts = [int(reviews.get("required_approving_review_count") or 0)]
    counts += [int(p.get("required_approving_review_count") or 0) for p in pull_requests]
    return {
        "repository": full_name(repo),
        "default_branch": repo["default_branch"],
        "private": bool(repo.get("private")),
        "protected": classic is not None or bool(rules),
        "required_approving_review_count": max(counts),
        "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews"))
        or any(p.get("dismiss_stale_reviews_on_push") for p in pull_requests),
        # A ruleset applies to administrators unless they are on its bypass list.
        "enforce_admins": bool(((classic or {}).get("enforce_admins") or {}).get("enabled"))
        or bool(pull_requests),
        "required_status_checks": sorted(checks),
    }


@collector(
    "github.repos.protection",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["administration:read", "metadata:read"],
)
def protection(org: GithubOrg) -> Iterator[Record]:
    """Reviews required, stale-review dismissal, admin enforcement and status checks on each default branch."""

    def protect(repo: dict[str, Any]) -> Record:
        name = full_name(repo)
        branch = repo.get("default_branch")
        if not isinstance(branch, str) or not branch:
            raise CollectorError(f"GET /orgs/{org.login}/repos: {name} has no default branch")
        classic = _classic(org, name, branch)
        rules = list(org.api.pages(f"/repos/{name}/rules/branches/{quote(branch, safe='')}"))
        return Record(resource_id=name, data=effective(repo, classic, rules))

    yield from org.api.fan_out(org.api.repositories(), protect)
