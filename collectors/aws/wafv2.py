"""AWS WAF (v2) lookups that other collectors attach to the resources they list.

Which web ACL protects a load balancer is not a field of the load balancer: only WAF answers it,
one resource at a time. (CloudFront distributions and API Gateway stages name theirs themselves.)
"""

from __future__ import annotations

from typing import Any

from collectors.aws.session import Api

WEB_ACL_FOR_RESOURCE = Api("get_web_acl_for_resource", "wafv2:GetWebACLForResource")


def web_acl_arn(client: Any, resource_arn: str) -> str | None:
    """The ARN of the web ACL associated with `resource_arn`; None when none is (WAF answers empty)."""
    acl = WEB_ACL_FOR_RESOURCE(client, ResourceArn=resource_arn).get("WebACL")
    return str(acl["ARN"]) if acl else None
