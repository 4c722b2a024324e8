"""The rule "list once per run": the two S3 collectors of one account, run concurrently, share the bucket
listing, each bucket's location and its versioning (`AwsAccount.once`). Requests are counted as
botocore sends them (a `before-send` handler), against moto in server mode; the shared failure
uses botocore's Stubber, since moto cannot deny ListBuckets.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.stub import Stubber

from agent.errors import CollectorError
from collectors.aws import s3
from collectors.aws.session import AwsAccount, AwsRegion
from tests.aws_collect import collected, seeder, single_account

REGION = "eu-west-1"
COLLECTORS = (s3.buckets, s3.bucket_protection)
Collector = Callable[[AwsAccount], Iterable[Any]]


class Sent:
    """Every request botocore sends through a session's S3 clients, by operation and URL (which names
    the bucket); registered before the clients exist, as clients copy the session's handlers."""

    def __init__(self, account: AwsAccount) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.operations: Counter[str] = Counter()
        self._lock = threading.Lock()
        account.session.events.register("before-send.s3.*", self._count)

    def _count(self, event_name: str, request: Any, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.requests[(operation, request.url)] += 1
            self.operations[operation] += 1


def _together(account: AwsAccount, collectors: Iterable[Collector]) -> list[Any]:
    """Each collector's records (or the exception it raised), all started at once on their own threads."""
    todo = list(collectors)
    start = threading.Barrier(len(todo))

    def run(collector: Collector) -> Any:
        start.wait(timeout=30)
        try:
            return collected(collector, account)
        except CollectorError as exc:
            return exc

    with ThreadPoolExecutor(len(todo)) as pool:
        return list(pool.map(run, todo))


def _seed(account: AwsAccount) -> list[str]:
    client = seeder(account, "s3")
    names = ["alpha", "beta", "gamma"]
    for name in names:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket="beta", VersioningConfiguration={"Status": "Enabled"})
    seeder(AwsRegion(account, "us-east-1"), "s3").create_bucket(Bucket="legacy")
    return [*names, "legacy"]


def test_both_s3_collectors_send_each_shared_request_once(aws: str) -> None:
    account = single_account()
    buckets = _seed(account)
    alone = [collected(c, single_account()) for c in COLLECTORS]  # each on an account of its own
    sent = Sent(account)

    assert _together(account, COLLECTORS) == alone  # the records are as each collector alone makes them
    n = len(buckets)
    assert sent.operations == {
        "ListBuckets": 1,
        "GetBucketLocation": n,  # moto's listing has no BucketRegion
        "GetBucketVersioning": n,
        **dict.fromkeys(
            ("GetPublicAccessBlock", "GetBucketPolicyStatus", "GetBucketEncryption", "GetBucketLogging"), n
        ),
        **dict.fromkeys(("GetBucketAcl", "GetBucketPolicy", "GetObjectLockConfiguration"), n),
    }
    assert set(sent.requests.values()) == {1}  # no request twice, for any bucket
    assert {r["Region"] for r in alone[0].values()} == {REGION, "us-east-1"}
    assert alone[0]["arn:aws:s3:::beta"]["Versioning"] == "Enabled"


def test_the_answers_live_with_the_account_object(aws: str) -> None:
    """Targets are resolved afresh every run, so another account object (another run) reads again."""
    buckets = _seed(single_account())
    accounts = [single_account() for _ in COLLECTORS]
    sent = [Sent(a) for a in accounts]
    for account, collector in zip(accounts, COLLECTORS, strict=True):
        collected(collector, account)
    total = sum((s.operations for s in sent), Counter[str]())
    n = len(buckets)
    shared = ("ListBuckets", "GetBucketLocation", "GetBucketVersioning")
    assert [total[op] for op in shared] == [2, 2 * n, 2 * n]


def test_a_failed_shared_listing_fails_both_collectors_with_the_same_error(aws: str) -> None:
    account = single_account()
    with Stubber(account.client("s3")) as stub:
        stub.add_client_error("list_buckets", "AccessDenied", http_status_code=403)
        first, second = _together(account, COLLECTORS)
        stub.assert_no_pending_responses()
    assert isinstance(first, CollectorError) and second is first  # one request, one failure, shared
    with pytest.raises(CollectorError, match=r"^access denied: s3:ListBuckets$"):
        raise first
