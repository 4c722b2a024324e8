"""Benchmark: `annexa collect` on 5,000 IAM users against a naive per-user boto3 listing.

Prints, from one run:
  - collect wall time / naive per-user listing of the same facts   (target <= 0.25)
  - store size after 10 unchanged runs / after 1 run                (target <= 1.10)
  - peak RSS of `annexa collect`                                   (target <= 300 MB)

Everything runs on loopback: moto in this process, `annexa collect` as a child process.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from agent.demo.organisation import seed_bulk_users
from agent.demo.setup import moto_endpoint
from bench.measure import run_annexa

COLLECT_IAM = ["collect", "--source", "aws.iam.*", "--json", "--config"]


def naive_listing(endpoint: str) -> tuple[float, int]:
    """The same facts the IAM checks judge, gathered user by user as a simple script would."""
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1", config=Config(retries={"max_attempts": 3})
    )
    started = time.perf_counter()
    calls = 0
    iam.get_account_summary()
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()
    calls += 2
    for page in iam.get_paginator("list_users").paginate():
        calls += 1
        for user in page["Users"]:
            name = user["UserName"]
            iam.list_mfa_devices(UserName=name)
            keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            for key in keys:
                iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
            with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                iam.get_login_profile(UserName=name)
            iam.list_attached_user_policies(UserName=name)
            inline = iam.list_user_policies(UserName=name)["PolicyNames"]
            for policy in inline:
                iam.get_user_policy(UserName=name, PolicyName=policy)
            iam.list_groups_for_user(UserName=name)
            calls += 6 + len(keys) + len(inline)
    return time.perf_counter() - started, calls


def store_bytes(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, moto_endpoint() as endpoint:
        t0 = time.perf_counter()
        seeded = seed_bulk_users(endpoint, args.users)
        print(f"seeded {seeded.users} users in {time.perf_counter() - t0:.1f} s: {seeded}")
        db = Path(tmp) / "bench.db"
        config = Path(tmp) / "annexa.toml"
        config.write_text(f'[store]\nurl = "sqlite:///{db}"\n[aws]\nenabled = true\n')

        collect_s, rss, summary = run_annexa([*COLLECT_IAM, str(config)])
        assert summary["run"]["status"] == "complete", summary["run"]
        size_1 = store_bytes(db)
        naive_s, calls = naive_listing(endpoint)
        peak = rss
        for _ in range(args.runs - 1):
            _, rss, summary = run_annexa([*COLLECT_IAM, str(config)])
            assert summary["run"]["status"] == "complete", summary["run"]
            peak = max(peak, rss)
        size_n = store_bytes(db)

    print(f"annexa collect:        {collect_s:8.2f} s (whole command: start-up, collection, checks, store)")
    print(f"naive per-user boto3:  {naive_s:8.2f} s ({calls} API calls)")
    print(f"ratio collect/naive:   {collect_s / naive_s:8.3f}   (target <= 0.25)")
    print(f"store after 1 run:     {size_1 / 1e6:8.2f} MB")
    print(f"store after {args.runs} runs:   {size_n / 1e6:8.2f} MB")
    print(f"ratio {args.runs} runs/1 run:    {size_n / size_1:8.3f}   (target <= 1.10)")
    print(f"peak RSS of collect:   {peak / 1e6:8.1f} MB (target <= 300 MB)")


if __name__ == "__main__":
    main()
