"""OpenSearch Service evidence, per region: each domain's (OpenSearch or legacy Elasticsearch)
encryption at rest, node-to-node encryption and HTTPS enforcement, and which logs it publishes.

The service's IAM prefix is `es`, its name before the rename.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
DOMAIN_NAMES = Api("list_domain_names", "es:ListDomainNames")
DESCRIBE_DOMAINS = Api("describe_domains", "es:DescribeDomains")
DESCRIBE_BATCH = 5  # DescribeDomains takes at most five names


def _domain(domain: dict[str, Any]) -> dict[str, Any]:
    """`LogPublishing`: each log type AWS lists for the domain (AUDIT_LOGS, ES_APPLICATION_LOGS,
    INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS) and whether its publishing to CloudWatch Logs is enabled;
    `AdvancedSecurity`: fine-grained access control, without which AWS publishes no audit logs."""
    at_rest = domain.get("EncryptionAtRestOptions") or {}
    published = domain.get("LogPublishingOptions") or {}
    endpoint = domain.get("DomainEndpointOptions") or {}
    return {
        "DomainName": domain["DomainName"],
        "EngineVersion": domain.get("EngineVersion"),
        "EncryptionAtRest": bool(at_rest.get("Enabled")),
        "KmsKeyId": at_rest.get("KmsKeyId"),
        "NodeToNodeEncryption": bool((domain.get("NodeToNodeEncryptionOptions") or {}).get("Enabled")),
        "EnforceHTTPS": bool(endpoint.get("EnforceHTTPS")),
        "TLSSecurityPolicy": endpoint.get("TLSSecurityPolicy"),
        "LogPublishing": {kind: bool(option.get("Enabled")) for kind, option in sorted(published.items())},
        "AdvancedSecurity": bool((domain.get("AdvancedSecurityOptions") or {}).get("Enabled")),
    }


@collector(
    "aws.opensearch.domains",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(DOMAIN_NAMES, DESCRIBE_DOMAINS),
)
def domains(ctx: AwsRegion) -> Iterator[Record]:
    """Domains with encryption at rest and in transit (between nodes, and HTTPS for clients) and
    the logs they publish."""
    client = ctx.client("opensearch")
    names = [d["DomainName"] for d in DOMAIN_NAMES(client)["DomainNames"]]
    for start in range(0, len(names), DESCRIBE_BATCH):
        batch = names[start : start + DESCRIBE_BATCH]
        for domain in DESCRIBE_DOMAINS(client, DomainNames=batch)["DomainStatusList"]:
            yield Record(resource_id=domain["ARN"], data=_domain(domain))
