"""Benchmark: `annexa collect` of 50,000 people in HR, Okta, Google Workspace and Entra ID against the
same calls made one after the other, and the cross-system people checks on what it stored.

Prints, from one run:
  - `annexa collect` wall time (start-up, every source of the four systems, their checks, store)
  - the same API calls made one at a time with the same SDKs: per kind of call, a sample timed
    and scaled by how many of that kind the collect made (each server counts its requests)
                                                                        (target: collect <= 0.3x)
  - the reconciliation checks (every `people.*` check whose sources are collected: leavers'
    accounts, sign-ins after leaving, accounts without an employee, for Entra ID, Okta and
    Workspace) on the evidence the collect stored                     (target <= 5 s)
  - peak RSS of `annexa collect`                                        (target <= 600 MB)

Each simulated API runs in a child process of its own on loopback and answers every request after
`--latency` seconds, standing in for the real API's round trip. bench/identity_world.py seeds them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

SYSTEMS = ("okta", "google_workspace", "entra")
SOURCES = ["--source", "okta.*", "--source", "google_workspace.*", "--source", "entra.*", "--source", "hr.*"]
TENANT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
ENV = {  # the simulators' tokens, named in the config by these variables
    "okta": "BENCH_OKTA_TOKEN",
    "google_workspace": "BENCH_WORKSPACE_TOKEN",
    "entra": "BENCH_GRAPH_TOKEN",
}
Timings = dict[str, tuple[int, float]]  # kind of call -> (calls timed, seconds)


def config_text(tmp: Path, urls: dict[str, str]) -> str:
    """Every system's collectors at their defaults ([okta] max_concurrency included)."""
    return (
        f'[store]\nurl = "sqlite:///{tmp / "bench.db"}"\n\n'
        f'[hr]\nenabled = true\nprovider = "file"\npath = "{tmp / "people.csv"}"\n\n'
        f'[okta]\nenabled = true\norg_url = "{urls["okta"]}"\napi_token_env = "{ENV["okta"]}"\n\n'
        f'[google_workspace]\nenabled = true\napi_endpoint = "{urls["google_workspace"]}"\n'
        f'access_token_env = "{ENV["google_workspace"]}"\n\n'
        f'[entra]\nenabled = true\ntenant_id = "{TENANT_ID}"\ngraph_url = "{urls["entra"]}"\n'
        f'access_token_env = "{ENV["entra"]}"\n'
    )


def kind(system: str, hit: str) -> str:
    """A kind of call: one per route, ids left out (`entra /v1.0/directoryRoles/{id}/members`)."""
    return f"{system} {re.sub(r'/directoryRoles/[^/]+/', '/directoryRoles/{id}/', hit)}"


def spread(items: list[str], sample: int) -> list[str]:
    """At most `sample` of `items`, evenly spread over them."""
    return items[:: max(1, -(-len(items) // sample))][:sample]


class Clock:
    """Times calls made one after the other, by kind."""

    def __init__(self) -> None:
        self.timings: Timings = {}

    def add(self, what: str, calls: int, seconds: float) -> None:
        done, spent = self.timings.get(what, (0, 0.0))
        self.timings[what] = (done + calls, spent + seconds)

    def each(self, what: str, items: Iterable[Any], call: Callable[[Any], object]) -> None:
        for item in items:
            started = time.perf_counter()
            call(item)
            self.add(what, 1, time.perf_counter() - started)

    def pages(self, what: str, pages: Iterator[Any]) -> list[Any]:
        """Walk a paged listing one page after the other; its pages, in order."""
        found, started = [], time.perf_counter()
        for page in pages:
            found.append(page)
        self.add(what, len(found), time.perf_counter() - started)
        return found


def okta_sequential(clock: Clock, url: str, sample: int) -> None:
    """The Okta calls with the product's okta SDK client, forced to one request in flight."""
    from collectors.okta import policies, roles
    from collectors.okta.client import OktaApi
    from collectors.okta.scopes import POLICIES_READ, ROLES_READ, USERS_READ
    from collectors.okta.settings import OktaSettings
    from collectors.okta.users import DEPROVISIONED, EVERY_STATUS, PAGE

    api = OktaApi(OktaSettings(enabled=True, org_url=url, api_token_env=ENV["okta"], max_concurrency=1))

    def listing(path: str, scope: str, **params: Any) -> list[dict[str, Any]]:
        return [
            item
            for page in clock.pages(f"okta GET {path}", api.pages(path, scope, **params))
            for item in page
        ]

    def each(path: str, ids: list[str], scope: str) -> None:
        clock.each(f"okta GET {path}", ids, lambda i: api.listings([path.replace("{id}", i)], scope))

    users = listing("/api/v1/users", USERS_READ, filter=EVERY_STATUS, limit=PAGE)
    enrolled = [u["id"] for u in users if u["status"] != DEPROVISIONED]
    each("/api/v1/users/{id}/factors", spread(enrolled, sample), USERS_READ)
    holders = [h["id"] for h in listing("/api/v1/iam/assignees/users", ROLES_READ, limit=roles.PAGE)]
    each("/api/v1/users/{id}/roles", spread(holders, sample), ROLES_READ)
    for kind_of_policy in (policies.SIGN_ON, policies.ACCESS):
        found = listing("/api/v1/policies", POLICIES_READ, type=kind_of_policy, limit=policies.PAGE)
        each("/api/v1/policies/{id}/rules", [p["id"] for p in found], POLICIES_READ)


def workspace_sequential(clock: Clock, url: str) -> None:
    """The Directory API calls with google-api-python-client, page after page."""
    from collectors.google_workspace.client import WorkspaceApi
    from collectors.google_workspace.roles import ASSIGNMENT_FIELDS, ASSIGNMENTS_PAGE, ROLE_FIELDS, ROLES_PAGE
    from collectors.google_workspace.settings import GoogleWorkspaceSettings
    from collectors.google_workspace.users import FIELDS, PAGE_SIZE

    settings = GoogleWorkspaceSettings(
        enabled=True, api_endpoint=url, access_token_env=ENV["google_workspace"]
    )
    directory = WorkspaceApi(settings).directory()

    def walk(resource: Any, **params: Any) -> Iterator[Any]:
        request = resource.list(customer="my_customer", **params)
        while request is not None:
            response = request.execute()
            yield response
            request = resource.list_next(request, response)

    base = "google_workspace GET /admin/directory/v1"
    clock.pages(
        f"{base}/users", walk(directory.users(), maxResults=PAGE_SIZE, projection="basic", fields=FIELDS)
    )
    clock.pages(
        f"{base}/customer/my_customer/roles",
        walk(directory.roles(), maxResults=ROLES_PAGE, fields=ROLE_FIELDS),
    )
    assignments = directory.roleAssignments()
    clock.pages(
        f"{base}/customer/my_customer/roleassignments",
        walk(assignments, maxResults=ASSIGNMENTS_PAGE, fields=ASSIGNMENT_FIELDS),
    )


def entra_sequential(clock: Clock, url: str) -> None:
    """The Graph calls with msgraph-sdk (the product's `Graph`: its client, its retry, its reading of
    Graph's JSON), page after page."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.directory_roles.item.members.members_request_builder import MembersRequestBuilder
    from msgraph.generated.reports.authentication_methods.user_registration_details.user_registration_details_request_builder import (
        UserRegistrationDetailsRequestBuilder,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    from collectors.entra import auth_methods, users
    from collectors.entra.client import Graph
    from collectors.entra.settings import EntraSettings

    graph = Graph(
        EntraSettings(enabled=True, tenant_id=TENANT_ID, graph_url=url, access_token_env=ENV["entra"])
    )
    client = graph.client

    def walk(builder: Any, query: Any = None) -> Iterator[dict[str, Any]]:
        config = RequestConfiguration(query_parameters=query) if query is not None else None
        page = graph.get("bench", lambda: builder.to_get_request_information(config))
        yield page
        while link := page.get("@odata.nextLink"):
            page = graph.get("bench", lambda: builder.with_url(link).to_get_request_information())
            yield page

    try:
        user_query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            select=users.SELECT, top=users.PAGE_SIZE
        )
        clock.pages("entra /v1.0/users", walk(client.users, user_query))
        details = client.reports.authentication_methods.user_registration_details
        params = UserRegistrationDetailsRequestBuilder.UserRegistrationDetailsRequestBuilderGetQueryParameters
        registrations = params(select=auth_methods.SELECT, top=auth_methods.PAGE_SIZE)
        clock.pages(
            "entra /v1.0/reports/authenticationMethods/userRegistrationDetails", walk(details, registrations)
        )
        clock.pages(
            "entra /v1.0/identity/conditionalAccess/policies",
            walk(client.identity.conditional_access.policies),
        )
        defaults = client.policies.identity_security_defaults_enforcement_policy
        clock.each(
            "entra /v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            [defaults],
            lambda b: graph.get("bench", b.to_get_request_information),
        )
        roles = [
            r["id"]
            for page in clock.pages("entra /v1.0/directoryRoles", walk(client.directory_roles))
            for r in page["value"]
        ]
        members = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id"])
        each_role = (client.directory_roles.by_directory_role_id(r).members for r in roles)
        for builder in each_role:
            clock.pages("entra /v1.0/directoryRoles/{id}/members", walk(builder, members))
    finally:
        graph.close()


def scaled(clock: Clock, hits: dict[str, Counter[str]]) -> list[tuple[str, int, int, float, float]]:
    """Per kind of call the collect made: (kind, calls in the collect, calls timed, seconds timed,
    seconds for all of them one at a time). A kind the baseline did not time stops the bench."""
    made: Counter[str] = Counter()
    for system, counted in hits.items():
        for hit, calls in counted.items():
            made[kind(system, hit)] += calls
    rows = []
    for what, calls in sorted(made.items()):
        if what not in clock.timings:
            raise SystemExit(f"the sequential baseline does not time {what!r} ({calls} calls in the collect)")
        timed, seconds = clock.timings[what]
        rows.append((what, calls, timed, seconds, seconds * calls / timed))
    return rows


def reconcile(
    config: Path, collected: dict[tuple[str, str], dict[str, int]]
) -> list[tuple[str, float, dict[str, int], bool]]:
    """Each `people.*` check whose sources were collected, judged as the evaluator judges it: one
    view per check over the latest evidence of its needs and context, all views sharing one cache.
    Per check: (id, seconds, result counts, whether the counts are those the collect stored)."""
    from agent.config.settings import load_settings
    from agent.plugin.evidence import Evidence
    from agent.plugin.loader import load_plugins
    from agent.store import Store
    from agent.store.observations import latest_observations, load_records

    settings, _ = load_settings(config)
    registry = load_plugins(systems=())
    store = Store(settings.store.url)
    checks = [spec for name, spec in sorted(registry.checks.items()) if name.startswith("people.")]
    records: dict[str, list[Any]] = {}
    scopes: dict[str, str] = {}
    started = time.perf_counter()
    for obs in latest_observations(store, {n for c in checks for n in (*c.needs, *c.context)}, None):
        records.setdefault(obs.source, []).extend(load_records(store, obs))
        scopes[obs.source] = obs.scope
    loaded = sum(len(r) for r in records.values())
    print(
        f"loaded {loaded:,} records of {len(records)} sources from the store in {time.perf_counter() - started:.1f} s"
    )
    now, shared, out = datetime.now(UTC), dict[Hashable, Any](), []
    for spec in checks:
        if not all(n in records for n in spec.needs):
            continue  # AWS IAM is not seeded here
        view = Evidence(
            scope=scopes[spec.primary_source],
            now=now,
            sources={n: records.get(n, []) for n in (*spec.needs, *spec.context)},
            params=settings.check_params(spec.id, spec.params),
            shared=shared,
        )
        started = time.perf_counter()
        results = list(spec.func(view))
        elapsed = time.perf_counter() - started
        counts = dict(Counter(r.status.value for r in results))
        out.append((spec.id, elapsed, counts, collected.get((spec.id, view.scope)) == counts))
    store.engine.dispose()
    return out


def collected_after(log: Iterable[str]) -> dict[str, float]:
    """Seconds from the run's start to each source's `collected` event, from `annexa --log-level info`
    (key='value' lines, or JSON ones)."""
    events = []
    for line in log:
        try:
            fields = json.loads(line)
        except ValueError:
            fields = dict(re.findall(r"(\w+)='([^']*)'", line))
        if fields.get("event") in ("run_started", "collected"):
            events.append(
                (fields["event"], fields.get("source", ""), datetime.fromisoformat(fields["timestamp"]))
            )
    start = next(at for event, _, at in events if event == "run_started")
    return {source: (at - start).total_seconds() for event, source, at in events if event == "collected"}


def collect(config: Path) -> tuple[float, int, dict[str, Any], dict[str, float]]:
    """`annexa collect` of the four systems: wall seconds, peak RSS, its summary, each source's end."""
    from bench.measure import run_annexa

    args = ["--log-level", "info", "collect", "--json", *SOURCES, "--config", str(config)]
    with tempfile.TemporaryFile("w+") as log:
        elapsed, rss, summary = run_annexa(args, stderr=log, ok=(0, 1, 5))
        log.seek(0)
        return elapsed, rss, summary, collected_after(log)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--people", type=int, default=50_000, help="people in HR, and accounts in each system"
    )
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per API response")
    parser.add_argument(
        "--sample", type=int, default=500, help="calls of each kind timed one at a time, at most"
    )
    parser.add_argument(
        "--keep", type=Path, help="an empty directory to keep the store, config and HR export in"
    )
    args = parser.parse_args()

    from bench.identity_world import GRAPH_TOKEN, serve_all, write_hr_export
    from simulators.google_workspace import STATIC_TOKEN
    from simulators.okta import API_TOKEN

    os.environ |= {ENV["okta"]: API_TOKEN, ENV["google_workspace"]: STATIC_TOKEN, ENV["entra"]: GRAPH_TOKEN}
    today: date = datetime.now(UTC).date()
    with ExitStack() as stack:
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        started = time.perf_counter()
        served = dict(zip(SYSTEMS, serve_all(stack, SYSTEMS, args.people, today, args.latency), strict=True))
        write_hr_export(tmp / "people.csv", args.people, today)
        seeded = time.perf_counter() - started
        print(f"seeded {args.people:,} people in HR, Okta, Google Workspace and Entra ID in {seeded:.1f} s")
        config = tmp / "annexa.toml"
        config.write_text(config_text(tmp, {system: s.url for system, s in served.items()}))
        collect_s, rss, summary, ends = collect(config)
        hits = {system: s.hits() for system, s in served.items()}
        observations = summary["observations"]
        print(
            f"annexa collect: run {summary['run']['status']}, {observations['ok']} observations stored, "
            f"{observations['error']} failed, {len(summary['checks'])} check evaluations"
        )
        judged = reconcile(config, {(c["check_id"], c["scope"]): c["results"] for c in summary["checks"]})
        clock = Clock()
        okta_sequential(clock, served["okta"].url, args.sample)
        workspace_sequential(clock, served["google_workspace"].url)
        entra_sequential(clock, served["entra"].url)
        rows = scaled(clock, hits)

    print(
        f"\npeople:                       {args.people:8,} in HR, and accounts in Okta, Workspace, Entra ID each"
    )
    print(f"server latency per call:      {args.latency * 1000:8.0f} ms")
    print("annexa collect, each source collected after (s):")
    for source, after in sorted(ends.items(), key=lambda item: item[1]):
        print(f"  {source:<40} {after:8.1f}")
    print("calls made one at a time, by kind (the collect's count, how many timed, mean, all of them):")
    width = max(len(row[0]) for row in rows)
    for what, calls, timed, seconds, total in rows:
        print(f"  {what:<{width}} {calls:7,} {timed:5,} {seconds / timed * 1000:8.1f} ms {total:8.1f} s")
    print("reconciliation checks on the stored evidence (one view each, one shared cache):")
    for check_id, elapsed, counts, same in judged:
        shown = ", ".join(f"{status} {n:,}" for status, n in sorted(counts.items()))
        differs = "" if same else "  NOT what the collect stored"
        print(f"  {check_id:<52} {elapsed:6.2f} s  ({shown}){differs}")
    seq_s, recon, rss_mb = sum(row[-1] for row in rows), sum(j[1] for j in judged), rss / 1e6
    print(f"annexa collect (whole):       {collect_s:8.2f} s (start-up, collection, all checks, store)")
    print(f"sequential calls, scaled:     {seq_s:8.2f} s ({sum(r[1] for r in rows):,} calls)")
    print(f"ratio collect/sequential:     {collect_s / seq_s:8.3f}   (target <= 0.3)")
    print(f"reconciliation checks:        {recon:8.2f} s   (target <= 5 s, ratio {recon / 5:.2f})")
    print(f"peak RSS of collect:          {rss_mb:8.1f} MB (target <= 600 MB, ratio {rss_mb / 600:.2f})")


if __name__ == "__main__":
    main()
