"""Elastic Load Balancing (v2) evidence, per region: application, network and gateway load
balancers with their zones, listeners, access-log setting and, for application load balancers,
the WAF web ACL in front of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions
from collectors.aws.wafv2 import WEB_ACL_FOR_RESOURCE, web_acl_arn

DAY = timedelta(hours=24)
LOAD_BALANCERS = Api(
    "describe_load_balancers", "elasticloadbalancing:DescribeLoadBalancers", items="LoadBalancers"
)
LISTENERS = Api("describe_listeners", "elasticloadbalancing:DescribeListeners", items="Listeners")
RULES = Api("describe_rules", "elasticloadbalancing:DescribeRules", items="Rules")
ATTRIBUTES = Api("describe_load_balancer_attributes", "elasticloadbalancing:DescribeLoadBalancerAttributes")
# The attributes checks judge; AWS answers every attribute as a string ("true"/"false").
KEPT_ATTRIBUTES = ("access_logs.s3.enabled",)


def _actions(elbv2: Any, listener: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of every rule of a plain HTTP listener (its default rule included): whether
    any of them serves content over HTTP rather than redirecting to HTTPS."""
    return [
        {"Type": action.get("Type"), "RedirectProtocol": (action.get("RedirectConfig") or {}).get("Protocol")}
        for rule in RULES.pages(elbv2, ListenerArn=listener["ListenerArn"])
        for action in rule.get("Actions", [])
    ]


def _listener(elbv2: Any, listener: dict[str, Any]) -> dict[str, Any]:
    """Port, protocol and TLS policy; the rules' actions too where the protocol is plain HTTP."""
    data = fields(listener, "Port", "Protocol", "SslPolicy")
    if listener.get("Protocol") == "HTTP":
        data["Actions"] = _actions(elbv2, listener)
    return data


def _load_balancer(ctx: AwsRegion, lb: dict[str, Any]) -> Record:
    elbv2 = ctx.client("elbv2")
    arn = lb["LoadBalancerArn"]
    attributes = {
        a["Key"]: a.get("Value") for a in ATTRIBUTES(elbv2, LoadBalancerArn=arn).get("Attributes", [])
    }
    application = lb.get("Type") == "application"
    data = {
        **fields(lb, "LoadBalancerName", "Type", "Scheme"),
        "AvailabilityZones": sorted({z["ZoneName"] for z in lb.get("AvailabilityZones", [])}),
        "Listeners": [_listener(elbv2, listener) for listener in LISTENERS.pages(elbv2, LoadBalancerArn=arn)],
        "Attributes": {key: attributes.get(key) for key in KEPT_ATTRIBUTES},
        # Only application load balancers can have a WAF web ACL; None for the others too.
        "WebACLArn": web_acl_arn(ctx.client("wafv2"), arn) if application else None,
    }
    return Record(resource_id=arn, data=data)


@collector(
    "aws.elbv2.load_balancers",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LOAD_BALANCERS, LISTENERS, RULES, ATTRIBUTES, WEB_ACL_FOR_RESOURCE),
)
def load_balancers(ctx: AwsRegion) -> Iterator[Record]:
    """Load balancers: scheme, zones, listeners (TLS policy; HTTP rules' actions), access logs, web ACL."""
    listing = LOAD_BALANCERS.pages(ctx.client("elbv2"))
    yield from ordered_map(
        listing, lambda lb: _load_balancer(ctx, lb), ctx.account.settings.detail_concurrency, "elbv2"
    )
