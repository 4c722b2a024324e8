"""bench/replay.py: the baseline sends the server exactly what the collect sent, one at a time."""

from __future__ import annotations

import boto3

from agent.demo.setup import moto_endpoint
from bench.replay import Recorder, replay


def test_replayed_requests_reach_the_server_as_recorded() -> None:
    recorder = Recorder()
    with moto_endpoint(wrap=recorder.wrap) as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        recorder.on = True
        s3.list_buckets()
        s3.get_bucket_versioning(Bucket="kept")
        boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1").get_caller_identity()
        recorder.on = False
        first = list(recorder.requests)
        sent = [(r.method, r.target, r.body) for r in first]
        assert [m for m, _, _ in sent] == ["GET", "GET", "POST"] and sent[1][1] == "/kept?versioning"
        assert dict(recorder.served) == {"s3": 2, "sts": 1} and recorder.peak["s3"] == 1
        assert recorder.server_cpu > 0

        recorder.requests.clear()
        recorder.on = True
        replay(endpoint, first)
        assert [(r.method, r.target, r.body) for r in recorder.requests] == sent
