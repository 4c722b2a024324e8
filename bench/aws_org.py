"""Benchmark: `annexa collect` over an AWS Organization of 3 accounts x 3 regions.

Seeds moto (in this process, through its backends: the HTTP API manages ~100 calls/s) with, in
total, >= 5,000 IAM users, >= 1,000 buckets, >= 3,000 security groups and >= 2,000 volumes, then
prints from one run:
  - collect wall time / the same requests sent one at a time (target <= 0.15), each answered after
    `--latency-ms` (20 ms: a network round trip to a cloud API). A first, recording run collects
    from moto; both timed runs are then served moto's recorded answers (bench/replay.py), because
    moto answers on one core and its CPU, not the client, would set the time. The baseline is
    every request the collect sent, replayed in order
  - the most requests in flight at once per AWS service in the timed run, against what the
    configuration allows
    (`[runner] per_service` collectors x `[aws] detail_concurrency` calls each)
  - checks-only time: re-judging the stored evidence, no collection           (target <= 5 s)
  - peak RSS of `annexa collect`, measured alone (not as a child of this moto-laden process)
                                                                               (target <= 400 MB)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from agent.config.settings import Settings, load_settings
from agent.demo.setup import environment, moto_endpoint
from agent.plugin.loader import load_plugins
from agent.run.runner import Runner
from agent.store import Store
from bench.measure import ANNEXA, measured_alone
from bench.replay import Recorder, Traffic, replay, replaying
from collectors.aws.settings import AwsSettings

REGIONS = ("eu-west-1", "us-east-1", "eu-central-1")
ROLE, EXTERNAL_ID = "annexa-audit", "bench-external-id"


def _organization(endpoint: str) -> list[str]:
    org = boto3.client("organizations", endpoint_url=endpoint, region_name=REGIONS[0])
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")["CreateAccountStatus"]["AccountId"]
        for n in (1, 2)
    ]
    caller = boto3.client("sts", endpoint_url=endpoint, region_name=REGIONS[0]).get_caller_identity()[
        "Account"
    ]
    return [caller, *members]


def seed(endpoint: str, users: int, buckets: int, groups: int, volumes: int) -> list[str]:
    """Spread the totals evenly over the accounts (and regions) through moto's in-process backends."""
    from moto.ec2.models import ec2_backends
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    accounts = _organization(endpoint)
    for n, acct in enumerate(accounts):
        iam = iam_backends[acct]["aws"]
        for i in range(-(-users // len(accounts))):
            name = f"user-{n}-{i:05d}"
            iam.create_user(REGIONS[0], name)
            if i % 3 == 0:
                iam.create_access_key(name)
        s3 = s3_backends[acct]["aws"]
        for i in range(-(-buckets // len(accounts))):
            s3.create_bucket(f"bench-{acct}-{i:05d}", REGIONS[i % len(REGIONS)])
        for region in REGIONS:
            ec2 = ec2_backends[acct][region]
            vpc = ec2.describe_vpcs()[0].id
            per_region = len(accounts) * len(REGIONS)
            for i in range(-(-groups // per_region)):
                ec2.create_security_group(f"sg-{i:05d}", "bench", vpc_id=vpc)
            for i in range(-(-volumes // per_region)):
                ec2.create_volume(8, f"{region}a", encrypted=i % 2 == 0)
    return accounts


def _config(tmp: Path, store: str) -> Path:
    config = tmp / f"{store}.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp / store}.db"\n'
        f'[aws]\nenabled = true\ndiscover_organization = true\nrole_name = "{ROLE}"\n'
        f'external_id = "{EXTERNAL_ID}"\nregions = {json.dumps(list(REGIONS))}\n'
        "max_attempts = 1\n"  # moto answers the APIs it lacks with 500s: no back-off sleeps for those
    )
    return config


def _collect(config: Path) -> tuple[float, int, dict[str, Any]]:
    elapsed, rss, out = measured_alone([ANNEXA, "collect", "--json", "--config", str(config)], ok=(0, 1))
    return elapsed, rss, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5001)
    parser.add_argument("--buckets", type=int, default=1002)
    parser.add_argument("--security-groups", type=int, default=3006)
    parser.add_argument("--volumes", type=int, default=2007)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)  # not needed here, and slow per account
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as name, moto_endpoint(latency, recorder.wrap) as endpoint:
        tmp = Path(name)
        t0 = time.perf_counter()
        accounts = seed(endpoint, args.users, args.buckets, args.security_groups, args.volumes)
        print(f"seeded {len(accounts)} accounts x {len(REGIONS)} regions in {time.perf_counter() - t0:.1f} s")
        recorder.on = True
        recording_s, _, recorded = _collect(_config(tmp, "recording"))
        recorder.on = False
        config = _config(tmp, "bench")
        with (
            replaying(recorder.answers, latency) as (replay_endpoint, replayer),
            environment({"AWS_ENDPOINT_URL": replay_endpoint}, drop=()),
        ):
            collect_s, rss, summary = _collect(config)
            if replayer.misses or summary["observations"] != recorded["observations"]:
                raise SystemExit(
                    f"the timed run diverged from the recording: {len(replayer.misses)} requests never "
                    f"recorded, {summary['observations']} observations against {recorded['observations']}"
                )
            traffic = replayer.traffic
            replayer.rewind()
            sequential_s = replay(replay_endpoint, recorder.requests)
        settings, _ = load_settings(config)
        runner = Runner(Store(settings.store.url), settings, load_plugins())
        t0 = time.perf_counter()
        checked = runner.check()
        checks_s = time.perf_counter() - t0
    _report(args.latency_ms, recorder, recording_s, (collect_s, sequential_s), summary, traffic, settings)
    print(
        f"checks only:              {checks_s:8.2f} s for {len(checked.outcomes)} check x scope evaluations (target <= 5 s)"
    )
    print(f"peak RSS of collect:      {rss / 1e6:8.1f} MB (target <= 400 MB)")


def _report(
    latency_ms: float,
    recorder: Recorder,
    recording_s: float,
    timed: tuple[float, float],
    summary: dict[str, Any],
    traffic: Traffic,
    settings: Settings,
) -> None:
    collect_s, sequential_s = timed
    allowed = settings.runner.per_service * settings.section(AwsSettings).detail_concurrency
    busiest = ", ".join(f"{service} {n}" for service, n in traffic.peak.most_common(5))
    print(f"observations:             {summary['observations']} (run {summary['run']['status']})")
    print(
        f"annexa collect:           {collect_s:8.2f} s (whole command: start-up, collection, checks, store)"
    )
    print(
        f"same requests, in turn:   {sequential_s:8.2f} s ({len(recorder.requests)} requests, "
        f"each answered after {latency_ms:g} ms)"
    )
    print(f"ratio collect/sequential: {collect_s / sequential_s:8.3f}   (target <= 0.15)")
    print(
        f"recording run, on moto:   {recording_s:8.2f} s, of which moto's own CPU answering {recorder.server_cpu:.2f} s "
        "(one core's worth: the floor of any client's time against moto)"
    )
    print(f"requests per service:     {', '.join(f'{s} {n}' for s, n in traffic.served.most_common())}")
    print(
        f"most in flight, per AWS service: {busiest} (allowed: {allowed} = per_service x detail_concurrency)"
    )


if __name__ == "__main__":
    main()
