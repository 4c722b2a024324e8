"""AWS checks on the edge services in front of applications: CloudFront distributions (HTTPS,
TLS versions, WAF) and API Gateway REST API stages (WAF, access logs)."""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import as_list, or_nothing_to_judge
from checks.aws._common import IN_TRANSIT, WAF, judge_faults, web_acl

DISTRIBUTIONS = "aws.cloudfront.distributions"
STAGES = "aws.apigateway.stages"
HTTPS_VIEWERS = frozenset({"redirect-to-https", "https-only"})


# --- CloudFront -----------------------------------------------------------------------------------


def _cf(rec: Record) -> str:
    return f"{rec.data['Id']} ({rec.data.get('DomainName')})"


@check(
    "aws.cloudfront.viewer_https",
    title="CloudFront distributions serve viewers over HTTPS only",
    controls={
        "A.8.24": IN_TRANSIT,
        "A.8.20": "The distribution is the network edge viewers connect to.",
        "A.5.14": "Information sent between viewers and the distribution travels encrypted.",
    },
    severity="major",
    needs=[DISTRIBUTIONS],
    rationale="A cache behaviour that allows HTTP serves content and cookies readable on the path.",
    remediation="Set every cache behaviour's viewer protocol policy to redirect-to-https or https-only.",
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_viewer_https(ev: Evidence) -> Iterator[Result]:
    """The default and every other cache behaviour must redirect to HTTPS or require it."""
    for dist in ev.records(DISTRIBUTIONS):
        behaviours = [
            ("default", (dist.data.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy")),
            *(
                (b.get("PathPattern"), b.get("ViewerProtocolPolicy"))
                for b in dist.data.get("CacheBehaviors") or []
            ),
        ]
        faults = [
            f"cache behaviour {path} allows HTTP ({policy})"
            for path, policy in behaviours
            if policy not in HTTPS_VIEWERS
        ]
        yield judge_faults(dist, _cf(dist), faults, "every cache behaviour requires HTTPS")


@check(
    "aws.cloudfront.tls_version",
    title="CloudFront distributions accept only current TLS versions",
    controls={
        "A.8.24": "The minimum protocol version sets the TLS versions that protect viewers' traffic.",
        "A.8.21": "The minimum TLS version viewers may use is a security mechanism of the delivery network service.",
    },
    severity="minor",
    needs=[DISTRIBUTIONS],
    rationale="TLS 1.0 and 1.1 are deprecated; accepting them allows downgrades to broken versions.",
    remediation="Serve the distribution on its own domain with an ACM certificate and a security policy of "
    "TLSv1.2_2021 or newer (the default *.cloudfront.net certificate always accepts TLSv1).",
    params={"allowed_protocols": ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]},
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_tls_version(ev: Evidence) -> Iterator[Result]:
    """A custom certificate's minimum protocol version must be one of `allowed_protocols`."""
    allowed = as_list(ev.param("allowed_protocols"), "allowed_protocols")
    for dist in ev.records(DISTRIBUTIONS):
        cert = dist.data.get("ViewerCertificate") or {}
        version = cert.get("MinimumProtocolVersion")
        if cert.get("CloudFrontDefaultCertificate"):
            faults = ["uses the default CloudFront certificate, which accepts TLSv1"]
        else:
            faults = [] if version in allowed else [f"minimum protocol {version} is not in allowed_protocols"]
        yield judge_faults(dist, _cf(dist), faults, f"minimum protocol {version}")


@check(
    "aws.cloudfront.waf_web_acl",
    title="CloudFront distributions are behind a WAF web ACL",
    controls={
        "A.8.20": WAF,
        "A.8.26": "A web ACL protects the applications the distribution serves against common web attacks.",
    },
    severity="minor",
    needs=[DISTRIBUTIONS],
    rationale="Without a WAF, injection, scanning and bot traffic pass through the CDN to the origin.",
    remediation="Associate an AWS WAF web ACL (scope CLOUDFRONT) with the distribution.",
)
@or_nothing_to_judge("CloudFront distributions")
def cloudfront_waf_web_acl(ev: Evidence) -> Iterator[Result]:
    """Each distribution must name a web ACL."""
    for dist in ev.records(DISTRIBUTIONS):
        yield web_acl(dist, _cf(dist), dist.data.get("WebACLId"))


# --- API Gateway ----------------------------------------------------------------------------------


def _stage(rec: Record) -> str:
    return f"{rec.data.get('name')} ({rec.data['restApiId']}) stage {rec.data['stageName']}"


@check(
    "aws.apigateway.stage_waf_web_acl",
    title="Public API Gateway REST API stages are behind a WAF web ACL",
    controls={
        "A.8.20": WAF,
        "A.8.26": "A web ACL protects the API against common web attacks and abusive request rates.",
    },
    severity="minor",
    needs=[STAGES],
    rationale="Without a WAF, injection, scanning and abusive clients reach the API's backends unfiltered.",
    remediation="Associate an AWS WAF web ACL with the stage.",
)
@or_nothing_to_judge("API Gateway REST API stages")
def apigateway_stage_waf_web_acl(ev: Evidence) -> Iterator[Result]:
    """Stages of edge-optimised and regional APIs need a web ACL; private APIs are reached only from VPCs."""
    for stage in ev.records(STAGES):
        if stage.data.get("endpointTypes") == ["PRIVATE"]:
            yield Result.not_applicable(stage, f"{_stage(stage)} belongs to a private API")
            continue
        yield web_acl(stage, _stage(stage), stage.data.get("webAclArn"))


@check(
    "aws.apigateway.stage_access_logging",
    title="API Gateway REST API stages log access",
    controls={"A.8.15": "Access logs are the event log of who called which API method, and when."},
    severity="minor",
    needs=[STAGES],
    rationale="Without access logs, abuse of an API cannot be traced to a caller or scoped.",
    remediation="Turn on access logging for the stage, to a CloudWatch Logs group or Firehose stream.",
)
@or_nothing_to_judge("API Gateway REST API stages")
def apigateway_stage_access_logging(ev: Evidence) -> Iterator[Result]:
    """Each stage must send access logs somewhere."""
    for stage in ev.records(STAGES):
        where = stage.data.get("accessLogDestination")
        yield judge_faults(
            stage, _stage(stage), [] if where else ["access logging is off"], f"access logs to {where}"
        )
