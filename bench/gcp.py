"""Benchmark: `annexa collect` over an organisation of 2,000 GCP projects against a sequential listing.

Prints, from one run:
  - `annexa collect` wall time (start-up, hierarchy, 2,000+ policies, checks, store), and the
    collection phase alone (until the first check is evaluated)
  - a sequential listing of the same calls with the same SDK client     (target: collect <= 0.3x)
  - peak RSS of `annexa collect`                                      (target <= 300 MB)

The fake Google API server runs in its own process on loopback and answers every request
after `--latency` seconds, standing in for the real API's round trip (getIamPolicy typically
takes tens of milliseconds); with no latency both sides only measure CPU on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import resourcemanager_v3
from google.iam.v1 import iam_policy_pb2, options_pb2

from bench.measure import run_annexa, served_in_child
from tests.gcp_server import GcpServer, GcpWorld, binding

ORG = "organizations/123"


def world(projects: int, folders: int, latency: float) -> GcpWorld:
    """One organisation, `folders` folders, `projects` projects spread over them, a few bad grants."""
    w = GcpWorld(page_size=500, latency=latency)
    w.add_organization("123", "acme.com")
    w.policies[ORG] = [binding("roles/resourcemanager.organizationAdmin", "group:admins@acme.com")]
    for f in range(folders):
        w.add_folder(str(1000 + f), ORG, f"team-{f:03d}")
        w.policies[f"folders/{1000 + f}"] = [binding("roles/viewer", f"group:team-{f:03d}@acme.com")]
    for p in range(projects):
        project_id = f"proj-{p:05d}"
        w.add_project(project_id, f"folders/{1000 + p % folders}")
        grants = [
            binding("roles/viewer", "group:eng@acme.com", f"user:dev{p}@acme.com"),
            binding("roles/storage.admin", f"serviceAccount:app@{project_id}.iam.gserviceaccount.com"),
        ]
        if p % 97 == 0:
            grants.append(binding("roles/owner", f"user:owner{p}@acme.com"))
        w.policies[f"projects/{project_id}"] = grants
    return w


def serve(args: argparse.Namespace, conn: Any) -> None:
    """Child process: build the world and serve it until the parent closes the pipe."""
    with GcpServer(world(args.projects, args.folders, args.latency)) as server:
        conn.send(server.url)
        conn.recv()


def run_collect(config: Path) -> tuple[float, float, int, dict[str, Any]]:
    """Wall seconds, collection-phase seconds, peak RSS in bytes, and the JSON summary."""
    started_wall = time.time()
    args = [
        "--log-level",
        "info",
        "collect",
        "--json",
        "--source",
        "gcp.iam.policies",
        "--config",
        str(config),
    ]
    with tempfile.TemporaryFile("w+") as log:
        elapsed, rss, summary = run_annexa(args, stderr=log)
        log.seek(0)
        first_check = next(line for line in log if "check_evaluated" in line)
    stamp = first_check.split("timestamp='", 1)[1].split("'", 1)[0] if "timestamp='" in first_check else None
    if stamp is None:
        stamp = json.loads(first_check)["timestamp"]
    collection = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() - started_wall
    return elapsed, collection, rss, summary


def sequential_listing(url: str) -> tuple[float, int]:
    """The calls `annexa collect` makes, one after the other, with the same REST client."""
    options = ClientOptions(api_endpoint=url)
    creds = AnonymousCredentials()
    orgs = resourcemanager_v3.OrganizationsClient(credentials=creds, transport="rest", client_options=options)
    folders = resourcemanager_v3.FoldersClient(credentials=creds, transport="rest", client_options=options)
    projects = resourcemanager_v3.ProjectsClient(credentials=creds, transport="rest", client_options=options)
    started = time.perf_counter()
    calls = 1
    orgs.get_organization(name=ORG)
    resources: list[tuple[Any, str]] = [(orgs, ORG)]
    parents = [ORG]
    while parents:
        pager = folders.list_folders(request={"parent": parents.pop()})
        for page in pager.pages:
            calls += 1
            for folder in page.folders:
                parents.append(folder.name)
                resources.append((folders, folder.name))
    for page in projects.search_projects(request={"query": ""}).pages:
        calls += 1
        resources += [(projects, f"projects/{p.project_id}") for p in page.projects]
    options3 = options_pb2.GetPolicyOptions(requested_policy_version=3)
    for client, name in resources:
        client.get_iam_policy(request=iam_policy_pb2.GetIamPolicyRequest(resource=name, options=options3))
        calls += 1
    return time.perf_counter() - started, calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--folders", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=16, help="[gcp] max_concurrency")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per API response")
    args = parser.parse_args()
    with served_in_child(serve, args) as url, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "annexa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{Path(tmp) / "bench.db"}"\n'
            f'[gcp]\nenabled = true\norganization_ids = ["123"]\napi_endpoint = "{url}"\n'
            f'access_token_env = "BENCH_GCP_TOKEN"\nmax_concurrency = {args.concurrency}\n'
            '[checks.params."gcp.iam.external_members"]\ncompany_domains = ["acme.com"]\n'
        )
        os.environ["BENCH_GCP_TOKEN"] = "bench-token"
        collect_s, collection_s, rss, summary = run_collect(config)
        scopes = {c["scope"] for c in summary["checks"]}
        print(
            f"annexa collect: run {summary['run']['status']}, {summary['observations']} observations, "
            f"{len(summary['checks'])} check evaluations over {len(scopes)} scopes"
        )
        seq_s, calls = sequential_listing(url)

    print(
        f"server latency per call:     {args.latency * 1000:8.0f} ms; [gcp] max_concurrency {args.concurrency}"
    )
    print(f"annexa collect (whole):      {collect_s:8.2f} s (start-up, collection, checks, store)")
    print(f"  of which collection:       {collection_s:8.2f} s (until the first check is evaluated)")
    print(f"sequential listing:          {seq_s:8.2f} s ({calls} API calls, same client, one at a time)")
    print(f"ratio collect/sequential:    {collect_s / seq_s:8.3f}   (target <= 0.3)")
    print(f"ratio collection/sequential: {collection_s / seq_s:8.3f}")
    print(f"peak RSS of collect:         {rss / 1e6:8.1f} MB (target <= 300 MB)")


if __name__ == "__main__":
    main()
