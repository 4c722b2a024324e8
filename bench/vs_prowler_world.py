"""The account bench/vs_prowler.py points both tools at: the e2e seed (tests/aws_org_seed.py and its
topic seeds) applied to one standalone account in moto, eu-west-1 set up well and us-east-1 badly.

One account, not the e2e Organization: Prowler scans the account its credentials belong to, so
member accounts would be collected by Annexa alone and make the comparison lopsided.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from agent.demo.setup import moto_endpoint
from bench.loopback import loopback_server
from tests import aws_org_seed as seed
from tests import aws_org_seed_crypto, aws_org_seed_exposure, aws_org_seed_logging, aws_org_seed_posture

REGIONS = seed.REGIONS  # ("eu-west-1", "us-east-1"): good, bad
# s3control's endpoint for both tools. botocore puts the account id in front of its host even for
# a custom endpoint; in front of moto's loopback address that is a name a resolver is asked for.
# Under the reserved .invalid domain, not exempt from the proxy, it reaches `gate` unresolved.
S3_CONTROL = "s3-control.bench.invalid"
TOPICS = (aws_org_seed_crypto, aws_org_seed_posture, aws_org_seed_exposure, aws_org_seed_logging)


def seed_account() -> seed.SeededOrg:
    """Seed the caller's account through AWS_ENDPOINT_URL, in the order the e2e seed uses (the
    logging topic last: it judges every VPC the others create). Returns what the seed expects."""
    account = boto3.client("sts", region_name=REGIONS[0]).get_caller_identity()["Account"]
    world = seed.SeededOrg(account, [account])
    client = seed._clients(boto3.Session(), None)
    seed._s3(world, account, client, 0)
    seed._account_level(world, account, client, 0)
    for r, region in enumerate(REGIONS):
        good = r == 0
        key = seed._data(world, account, region, client, good=good)
        seed._network(world, account, region, client, good=good, key=key)
        seed._detection(world, account, region, client, good=good)
        for topic in TOPICS:
            topic.seed(world, account, region, client, good=good)
    return world


@contextmanager
def seeded_moto() -> Iterator[tuple[str, seed.SeededOrg]]:
    """A loopback moto server holding the seeded account; yields its URL and the seed's record.

    Sets AWS_ENDPOINT_URL and fake credentials in this process's environment while it lasts, so
    children started inside inherit them."""
    with moto_endpoint() as endpoint:
        yield endpoint, seed_account()


def serve(log: Path, conn: Connection) -> None:
    """`bench.measure.served_in_child`'s target: seed, send the URL, serve until told to stop.

    In a process of its own, so the bench's process stays small and moto's output (a traceback per
    call it lacks) goes to `log`, not the report."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    with seeded_moto() as (endpoint, _):
        conn.send(endpoint)
        conn.recv()


class _Gate(BaseHTTPRequestHandler):
    """The proxy every request not for moto's own address goes to: it forwards requests for
    S3_CONTROL (with or without the account-id host prefix s3control puts in front) to moto, and
    refuses and records every other destination, HTTPS tunnels included."""

    protocol_version = "HTTP/1.1"
    moto: tuple[str, int]
    refused: list[str]

    def _forward(self) -> None:
        url = urlsplit(self.path)
        host, port = self.moto
        if not re.fullmatch(rf"(\d{{12}}\.)?{re.escape(S3_CONTROL)}", url.hostname or ""):
            self.refused.append(f"{self.command} {url.hostname}:{url.port}")
            self.send_error(403, "the bench reaches moto only")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
        upstream = http.client.HTTPConnection(host, port, timeout=120)
        try:
            upstream.request(self.command, url._replace(scheme="", netloc="").geturl(), body, headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    def do_CONNECT(self) -> None:
        self.refused.append(f"CONNECT {self.path}")
        self.send_error(403, "the bench reaches moto only")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def gate(endpoint: str) -> Iterator[tuple[str, list[str]]]:
    """A loopback proxy in front of the moto at `endpoint` (see `_Gate`). Yields its URL and the
    list of refused destinations, filled while it runs."""
    parts = urlsplit(endpoint)
    refused: list[str] = []
    handler = type("Gate", (_Gate,), {"moto": (parts.hostname, parts.port), "refused": refused})
    with loopback_server(handler) as url:
        yield url, refused


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve bench/vs_prowler.py's seeded account, to look at.")
    parser.parse_args()
    with seeded_moto() as (endpoint, world):
        print(
            f"moto at {endpoint}: account {world.management}, regions {', '.join(REGIONS)}; Ctrl-C stops it"
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
