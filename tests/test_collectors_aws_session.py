"""AWS targets and their clients: the caller's and assumed-role accounts, cached clients, and
service models trimmed to the declared calls (collectors/aws/models.py), against a moto server."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import DeferredRefreshableCredentials

import agent
from agent.errors import CollectorError
from collectors.aws import iam, models
from collectors.aws.targets import aws_accounts
from tests.aws_collect import aws_settings, collected, seeder, single_account

ACCOUNT = "123456789012"


def test_the_caller_account_is_the_default_target(aws: str) -> None:
    account = single_account()
    assert (account.account_id, account.partition) == (ACCOUNT, "aws")
    assert account.scope == f"aws:{ACCOUNT}"
    assert single_account(accounts=[ACCOUNT]).account_id == ACCOUNT


def test_clients_are_cached_configured_and_created_once_across_threads(aws: str) -> None:
    account = single_account(retry_mode="standard", max_attempts=3, connect_timeout=2, read_timeout=7)
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(account.client("iam"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client = seen[0]
    assert all(c is client for c in seen)
    assert client.meta.region_name == "eu-west-1"
    assert account.client("iam", "us-east-2") is not client
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert f"annexa/{agent.__version__}" in config.user_agent_extra


def test_clients_know_the_declared_calls_only_from_one_shared_model(aws: str) -> None:
    """Service models are trimmed to what some `Api` declares (collectors/aws/models.py), once
    per process: a call nobody declared is not there, declared ones work, documentation is gone."""
    client = single_account().client("iam")
    other = single_account().client("iam")
    model = client.meta.service_model
    assert other is not client and other.meta.service_model._service_description is model._service_description
    assert hasattr(client, "get_account_summary") and hasattr(client, "get_credential_report")
    assert not hasattr(client, "create_user") and not hasattr(client, "delete_account_password_policy")
    assert model.documentation == "" and model.operation_model("GetAccountSummary").documentation == ""
    assert "CreateUserRequest" not in model.shape_names  # reached by no declared call
    assert iam.ACCOUNT_SUMMARY(client)["SummaryMap"]["Users"] == 0


def test_trimmed_models_are_kept_on_disk_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later process reads the trimmed model from the cache; an unreadable one is made again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    models.cache_dir.cache_clear()
    try:
        first = models.TrimmingLoader().load_service_model("sts", "service-2")
        (kept,) = tmp_path.glob("annexa/aws-models/*/sts-*.json")
        assert json.loads(kept.read_bytes()) == first and "GetCallerIdentity" in first["operations"]
        assert "AssumeRoot" not in first["operations"]  # declared by no Api
        kept.write_text(json.dumps({**first, "metadata": {**first["metadata"], "signingName": "from-disk"}}))
        assert (
            models.TrimmingLoader().load_service_model("sts", "service-2")["metadata"]["signingName"]
            == "from-disk"
        )
        kept.write_text('{"truncated": ')
        assert models.TrimmingLoader().load_service_model("sts", "service-2") == first
        assert json.loads(kept.read_bytes()) == first
    finally:
        models.cache_dir.cache_clear()


def test_default_region_without_one_configured(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert single_account().client("iam").meta.region_name == "us-east-1"


def test_no_credentials_is_a_one_line_collector_error(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CollectorError, match=r"^no AWS credentials found \(standard credential chain\)$"):
        single_account()


def test_other_accounts_need_a_role_name(aws: str) -> None:
    with pytest.raises(CollectorError, match="role_name is needed"):
        single_account(accounts=[ACCOUNT, "111111111111"])


def test_listed_accounts_are_reached_through_an_assumed_role(aws: str) -> None:
    members = ["111111111111", "222222222222"]
    accounts = list(aws_accounts(aws_settings(accounts=members, role_name="annexa-audit", external_id="x-1")))
    assert [a.scope for a in accounts] == [f"aws:{m}" for m in members]
    first = accounts[0]
    assert isinstance(first.session.get_credentials(), DeferredRefreshableCredentials)
    caller = first.client("sts").get_caller_identity()["Arn"]
    assert caller == "arn:aws:sts::111111111111:assumed-role/annexa-audit/annexa"
    seeder(first, "iam").create_user(UserName="only-in-member")
    users = collected(iam.users, first)
    assert list(users) == ["arn:aws:iam::111111111111:user/only-in-member"]
    assert collected(iam.users, accounts[1]) == {}
    assert collected(iam.users, single_account()) == {}


def test_without_a_home_models_are_trimmed_and_kept_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user with no home directory (a container's uid without a passwd entry): "~" stays "~", and
    nothing may be written under a relative "~/.cache" in the working directory."""
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)
    monkeypatch.chdir(tmp_path)
    models.cache_dir.cache_clear()
    try:
        model = models.TrimmingLoader().load_service_model("sts", "service-2")
        assert "GetCallerIdentity" in model["operations"] and "AssumeRoot" not in model["operations"]
        assert list(tmp_path.iterdir()) == []
    finally:
        models.cache_dir.cache_clear()
