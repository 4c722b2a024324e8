"""Benchmark: `annexa export` on a store of 1,000,000 evidence records.

Prints, from one run:
  - export wall time / time to read the same rows from the database   (target <= 2.0)
  - peak RSS of `annexa export` on a store of 100,000 and of 1,000,000 records (target <= 300 MB, flat)
and verifies the bundle it wrote.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from agent.bundle.signing import create_key_pair, seal_keys
from agent.plugin.model import Record, RunStatus
from agent.store import Store
from agent.store.chain import SealKeys
from agent.store.observations import EvidenceBuffer, write_observation
from agent.store.runs import finish_run, start_run
from agent.store.schema import Blob, TreeEntry
from agent.store.types import utcnow
from bench.measure import measured, run_annexa

PER_SCOPE = 50_000


def user(n: int, scope: int) -> Record:
    arn = f"arn:aws:iam::{scope:012d}:user/user-{n:07d}"
    return Record(
        arn,
        {
            "UserName": f"user-{n:07d}",
            "UserId": f"AIDA{scope:04d}{n:012d}",
            "Arn": arn,
            "CreateDate": "2025-01-01T00:00:00+00:00",
            "GroupList": ["engineering"] if n % 3 else ["finance", "readonly"],
            "AttachedManagedPolicies": [],
            "UserPolicyList": [],
            "PermissionsBoundary": None,
        },
    )


def build(db: Path, records: int, keys: SealKeys | None) -> None:
    """Sealed runs whose observations hold `records` IAM users across scopes of 50,000, signed
    with `keys` (the key `annexa export` is configured with, which checks the seals)."""
    store = Store(f"sqlite:///{db}", keys=keys)
    run = start_run(store, "bench", [])
    for scope in range(1, records // PER_SCOPE + 1):
        buffer = EvidenceBuffer("aws.iam.users")
        for n in range(PER_SCOPE):
            buffer.add(user(n, scope))
        write_observation(store, run, "aws.iam.users", f"aws:{scope:012d}", utcnow(), buffer)
    finish_run(store, run.id, RunStatus.COMPLETE)  # type: ignore[arg-type]
    store.close()


def read_rows(db: Path) -> int:
    """What the export must at least do: stream every evidence row out of the database."""
    store = Store(f"sqlite:///{db}")
    count = 0
    with store.read() as s:
        rows = s.execute(
            select(col(TreeEntry.resource_id), col(Blob.hash), col(Blob.data))
            .join(Blob, col(Blob.hash) == col(TreeEntry.blob_hash))
            .order_by(col(TreeEntry.tree_hash), col(TreeEntry.resource_id))
            .execution_options(yield_per=5000)
        )
        for _rid, _digest, data in rows:
            count += len(data) > 0
    return count


def measure(tmp: Path, records: int) -> tuple[float, float, int, Path]:
    db = tmp / f"store-{records}.db"
    t0 = time.perf_counter()
    build(db, records, seal_keys(str(tmp / "k.key")))
    print(
        f"built a store of {records:,} records in {time.perf_counter() - t0:.1f} s ({db.stat().st_size / 1e6:.0f} MB)"
    )
    config = tmp / f"annexa-{records}.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[aws]\nenabled = true\n[export]\nsigning_key = "{tmp / "k.key"}"\n'
    )
    read_s, _, _ = measured([sys.executable, __file__, "--read", str(db)])
    out = tmp / f"bundle-{records}.zip"
    export_s, rss, _ = run_annexa(["export", "--out", str(out), "--config", str(config)], ok=(0,))
    return export_s, read_s, rss, out


def main() -> None:
    parser = argparse.ArgumentParser(description="annexa export benchmark")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        read_rows(args.read)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        create_key_pair(tmp / "k.key")
        _, _, small_rss, _ = measure(tmp, max(PER_SCOPE, args.records // 10))
        export_s, read_s, rss, out = measure(tmp, args.records)
        verify_s, _, _ = run_annexa(["verify", str(out)], ok=(0,))
        print(
            f"export ({args.records:,} records): {export_s:7.2f} s, bundle {out.stat().st_size / 1e6:.0f} MB"
        )
        print(f"read the same rows:        {read_s:7.2f} s")
        print(f"ratio export/read:         {export_s / read_s:7.2f}   (target <= 2.0)")
        print(f"peak RSS, {args.records // 10:,} records: {small_rss / 1e6:6.1f} MB")
        print(f"peak RSS, {args.records:,} records: {rss / 1e6:6.1f} MB   (target <= 300 MB, flat)")
        print(f"verify of that bundle:     {verify_s:7.2f} s (passed)")


if __name__ == "__main__":
    main()
