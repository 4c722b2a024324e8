"""The effective protection of each repository's default branch: classic branch protection and the
active rulesets that target the branch, combined into one record.

A 404 "Branch not protected" (or "Branch not found", an empty repository) is evidence: nothing
classic protects it. Any other failure on any repository fails the listing, naming the repository.

A ruleset binds administrators only when none of its bypass actors may be one: every ruleset with a
pull-request rule is read (`/repos/{repo}/rulesets/{id}`, which also serves the organisation's
rulesets); GitHub shows `bypass_actors` only to a token that may edit the ruleset, and absent they
are unknown, so the ruleset is not counted as binding administrators.
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
# Bypass actors that are never an administrator: an app and a deploy key. Any other (an organisation
# admin, a repository role, a team, an enterprise role) may be one.
NOT_ADMINS = ("Integration", "DeployKey")


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


def _binds_admins(ruleset: dict[str, Any]) -> bool:
    """Whether no administrator can bypass the ruleset: its bypass actors are shown, none may be one."""
    actors = ruleset.get("bypass_actors") if isinstance(ruleset, dict) else None
    if not isinstance(actors, list):
        return False
    return all(isinstance(a, dict) and a.get("actor_type") in NOT_ADMINS for a in actors)


def effective(
    repo: dict[str, Any],
    classic: dict[str, Any] | None,
    rules: list[dict[str, Any]],
    binding: set[Any] | None = None,
) -> dict[str, Any]:
    """The effective protection; `binding`: ids of the rulesets no administrator can bypass."""
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
        # A ruleset applies to administrators unless they (may be) on its bypass list.
        "enforce_admins": bool(((classic or {}).get("enforce_admins") or {}).get("enabled"))
        or any(r.get("type") == "pull_request" and r.get("ruleset_id") in (binding or set()) for r in rules),
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
        rulesets = {r.get("ruleset_id") for r in rules if r.get("type") == "pull_request"}
        binding = {
            ruleset
            for ruleset in rulesets
            if isinstance(ruleset, int) and _binds_admins(org.api.get(f"/repos/{name}/rulesets/{ruleset}"))
        }
        return Record(resource_id=name, data=effective(repo, classic, rules, binding))

    yield from org.api.fan_out(org.api.repositories(), protect)
