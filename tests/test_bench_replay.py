"""bench/replay.py: the baseline sends what the collect sent, and the replaying server answers as moto did."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from agent.demo.setup import moto_endpoint
from bench.replay import Recorder, replay, replaying


def _calls(endpoint: str, bucket: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
    s3.list_buckets()
    s3.get_bucket_versioning(Bucket=bucket)
    boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1").get_caller_identity()


def test_replayed_requests_reach_the_server_as_recorded() -> None:
    recorder = Recorder()
    with moto_endpoint(wrap=recorder.wrap) as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        recorder.on = True
        _calls(endpoint, "kept")
        recorder.on = False
        first = list(recorder.requests)
        sent = [(r.method, r.target, r.body) for r in first]
        assert [m for m, _, _ in sent] == ["GET", "GET", "POST"] and sent[1][1] == "/kept?versioning"
        assert dict(recorder.traffic.served) == {"s3": 2, "sts": 1} and recorder.traffic.peak["s3"] == 1
        assert recorder.server_cpu > 0

        recorder.requests.clear()
        recorder.on = True
        replay(endpoint, first)
        assert [(r.method, r.target, r.body) for r in recorder.requests] == sent


def test_the_replaying_server_answers_recorded_calls_as_moto_did_and_names_the_rest() -> None:
    recorder = Recorder()
    with moto_endpoint(wrap=recorder.wrap) as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        s3.create_bucket(Bucket="versioned", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
        recorder.on = True
        _calls(endpoint, "versioned")
        recorder.on = False
        moto_said = s3.get_bucket_versioning(Bucket="versioned")["Status"]

    with replaying(recorder.answers, latency=0.0) as (endpoint, replayer):
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        assert "versioned" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == moto_said == "Enabled"
        assert dict(replayer.traffic.served) == {"s3": 2} and not replayer.misses
        with pytest.raises(ClientError):
            s3.get_bucket_encryption(Bucket="versioned")
        assert [key[1] for key in replayer.misses] == ["/versioned?encryption"]
