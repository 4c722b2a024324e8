"""Benchmark: `annexa collect --source 'github.*'` over an organisation of 2,000 repositories against
the same calls made one after the other with PyGithub.

Prints, from one run:
  - `annexa collect` wall time (start-up, every GitHub source, checks, store)
  - the same REST and GraphQL calls, sequentially, with the same PyGithub client settings
    (target: collect <= 0.2x); with `--sequential-repos` below `--repos` the per-repository calls
    are timed on that many repositories and scaled up (each call costs the same round trip)
  - peak RSS of `annexa collect`                                      (target <= 400 MB)

The fake GitHub runs in its own process on loopback and answers every request after `--latency`
seconds, standing in for the real API's round trip.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from github import Auth, Github
from github.GithubException import GithubException
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList

from bench.measure import run_annexa, served_in_child
from collectors.github.org import SAML_IDENTITIES
from tests.github_server import (
    GithubServer,
    GithubWorld,
    Org,
    Repo,
    analysis,
    classic,
    dependabot_alert,
    deploy_key,
    pull_request_rule,
)

ORG = "bench"
TOKEN = "bench-token"


def world(repos: int, latency: float) -> GithubWorld:
    """One organisation: `repos` repositories, protected in a few ways, 300 members, some outsiders."""
    org = Org(
        ORG,
        members={f"user{i:04d}": "admin" if i < 5 else "member" for i in range(300)},
        saml={f"user{i:04d}": f"user{i:04d}@bench.example" for i in range(300)},
        outside_collaborators=[f"ext{i:02d}" for i in range(20)],
    )
    for i in range(repos):
        kind = i % 4
        org.repos.append(
            Repo(
                f"repo-{i:05d}",
                private=i % 3 == 0,
                archived=i % 50 == 49,
                protection=classic(2, dismiss_stale=True, checks=("ci",))
                if kind == 0
                else classic(0)
                if kind == 1
                else None,
                rules=[pull_request_rule(1)] if kind == 2 else [],
                security_and_analysis=analysis("enabled" if i % 2 else "disabled", "disabled"),
                vulnerability_alerts=i % 5 != 0,
                code_scanning=None if i % 7 == 0 else "configured" if i % 2 else "not-configured",
                collaborators={f"ext{i % 20:02d}": "write"} if i % 10 == 0 else {},
                keys=[deploy_key(i, f"deploy-{i}")] if i % 25 == 0 else [],
            )
        )
        if i % 4 == 0:
            org.alerts.append(dependabot_alert(f"{ORG}/repo-{i:05d}", i + 1, "high", "lodash"))
    w = GithubWorld(token=TOKEN, latency=latency)
    w.add(org)
    return w


def serve(args: argparse.Namespace, conn: Any) -> None:
    """Child process: build the world and serve it until the parent closes the pipe."""
    with GithubServer(world(args.repos, args.latency)) as server:
        conn.send(server.url)
        conn.recv()


class Raw(NonCompletableGithubObject):
    """One JSON object of a listing as GitHub sent it: what a simple script pages through."""

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: Any) -> None:
        pass


def sequential(url: str, sample: int) -> tuple[float, int]:
    """The calls `annexa collect` makes, one at a time with PyGithub: seconds, and on how many
    repositories the per-repository calls were timed (organisation listings are timed in full)."""
    logging.getLogger("github").setLevel(logging.WARNING)  # GithubRetry notes every 403 it does not retry
    client = Github(
        auth=Auth.Token(TOKEN),
        base_url=url,
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    requester = client.requester

    def listing(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item.raw_data for item in PaginatedList(Raw, requester, path, params)]

    started = time.perf_counter()
    requester.requestJsonAndCheck("GET", f"/orgs/{ORG}")
    listing(f"/orgs/{ORG}/members", {"role": "admin"})
    listing(f"/orgs/{ORG}/members")
    after = None
    while True:
        _, data = requester.graphql_query(SAML_IDENTITIES, {"org": ORG, "after": after})
        identities = data["data"]["organization"]["samlIdentityProvider"]["externalIdentities"]
        if not identities["pageInfo"]["hasNextPage"]:
            break
        after = identities["pageInfo"]["endCursor"]
    listing(f"/orgs/{ORG}/outside_collaborators")
    listing(f"/orgs/{ORG}/dependabot/alerts", {"state": "open"})
    listing(f"/orgs/{ORG}/code-scanning/alerts", {"state": "open"})
    repos: list[dict[str, Any]] = []
    for _ in range(4):  # protection, security, outside collaborators and deploy keys each list once
        repos = [r for r in listing(f"/orgs/{ORG}/repos", {"type": "all"}) if not r["archived"]]
    listings_s = time.perf_counter() - started
    per_repo_started = time.perf_counter()
    timed = repos[:sample]
    for repo in timed:
        name, branch = repo["full_name"], repo["default_branch"]
        requester.requestJson("GET", f"/repos/{name}/branches/{branch}/protection")
        listing(f"/repos/{name}/rules/branches/{branch}")
        requester.requestJson("GET", f"/repos/{name}/vulnerability-alerts")
        with contextlib.suppress(GithubException):  # GithubRetry raises the 403 of a plan without GHAS
            requester.requestJson("GET", f"/repos/{name}/code-scanning/default-setup")
        listing(f"/repos/{name}/collaborators", {"affiliation": "outside"})
        listing(f"/repos/{name}/keys")
    per_repo_s = (time.perf_counter() - per_repo_started) * len(repos) / max(1, len(timed))
    return listings_s + per_repo_s, len(timed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8, help="[github] max_concurrency")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per API response")
    parser.add_argument(
        "--sequential-repos",
        type=int,
        default=400,
        help="repositories the sequential per-repo calls are timed on",
    )
    args = parser.parse_args()
    with served_in_child(serve, args) as url, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "annexa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{Path(tmp) / "bench.db"}"\n'
            f'[github]\nenabled = true\norganizations = ["{ORG}"]\napi_url = "{url}"\n'
            f'token_env = "BENCH_GITHUB_TOKEN"\nmax_concurrency = {args.concurrency}\n'
        )
        os.environ["BENCH_GITHUB_TOKEN"] = TOKEN
        argv = ["collect", "--json", "--source", "github.*", "--config", str(config)]
        collect_s, rss, summary = run_annexa(argv, ok=(0, 1, 5))
        observations = summary["observations"]
        print(
            f"annexa collect: run {summary['run']['status']}, {observations['ok']} observations stored, "
            f"{observations['error']} failed, {len(summary['checks'])} check evaluations"
        )
        seq_s, timed = sequential(url, args.sequential_repos)

    scaled = "" if timed >= args.repos else f" (per-repository calls timed on {timed} repositories, scaled)"
    print(f"repositories:                {args.repos:8d}; [github] max_concurrency {args.concurrency}")
    print(f"server latency per call:     {args.latency * 1000:8.0f} ms")
    print(f"annexa collect (whole):      {collect_s:8.2f} s (start-up, collection, checks, store)")
    print(f"sequential PyGithub calls:   {seq_s:8.2f} s{scaled}")
    print(f"ratio collect/sequential:    {collect_s / seq_s:8.3f}   (target <= 0.2)")
    print(f"peak RSS of collect:         {rss / 1e6:8.1f} MB (target <= 400 MB)")


if __name__ == "__main__":
    main()
