"""The least-privilege policy and role template in deploy/aws are generated from the collectors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from agent.plugin.loader import load_plugins
from collectors.aws.policy import actions, policy_json, role_template

DEPLOY = Path(__file__).parents[1] / "deploy" / "aws"
REGISTRY = load_plugins()
# API Gateway's read action is its management API's HTTP verb.
READ_ONLY = re.compile(r"^([a-z0-9-]+:(Describe|Get|List|BatchGet|Generate)[A-Za-z]+|apigateway:GET)$")


def test_the_committed_policy_and_template_are_what_the_generator_prints() -> None:
    assert (DEPLOY / "annexa-readonly-policy.json").read_text() == policy_json(REGISTRY)
    assert (DEPLOY / "annexa-member-role.yaml").read_text() == role_template(REGISTRY)
    out = subprocess.run(
        [sys.executable, "-m", "collectors.aws.policy"], capture_output=True, text=True, check=True
    ).stdout
    assert out == policy_json(REGISTRY)


def test_every_declared_permission_is_in_the_policy_and_nothing_else() -> None:
    doc = json.loads((DEPLOY / "annexa-readonly-policy.json").read_text())
    broad = doc["Statement"][0]
    assert broad["Effect"] == "Allow" and broad["Resource"] == "*"
    granted = [a for s in doc["Statement"] for a in s["Action"]]
    declared = {p for s in REGISTRY.collectors.values() if s.system == "aws" for p in s.permissions}
    assert declared <= set(granted) == set(actions(REGISTRY)) and len(granted) == len(set(granted))
    assert set(granted) - declared == {"organizations:ListAccounts", "ec2:DescribeRegions"} - declared


def test_api_gateway_reads_are_granted_on_rest_apis_and_stages_only() -> None:
    """`apigateway:GET` on "*" would also read API keys' values."""
    doc = json.loads((DEPLOY / "annexa-readonly-policy.json").read_text())
    [scoped] = [s for s in doc["Statement"] if s["Resource"] != "*"]
    assert scoped["Action"] == ["apigateway:GET"] and scoped["Effect"] == "Allow"
    assert scoped["Resource"] == [
        "arn:aws:apigateway:*::/restapis",
        "arn:aws:apigateway:*::/restapis/*/stages",
    ]


def test_the_policy_only_reads() -> None:
    for action in actions(REGISTRY):
        assert READ_ONLY.match(action), f"{action} is not a read-only action"
        assert "*" not in action


def test_the_role_trusts_one_principal_with_an_external_id() -> None:
    template = (DEPLOY / "annexa-member-role.yaml").read_text()
    assert "sts:ExternalId: !Ref ExternalId" in template and "NoEcho: true" in template
    assert "AWS: !Ref AgentPrincipalArn" in template and "Principal:\n              AWS" in template
    listed = re.findall(r"^ {18}- ([a-z0-9-]+:[A-Za-z]+)$", template, re.MULTILINE)
    assert sorted(listed) == actions(REGISTRY)
