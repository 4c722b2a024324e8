"""AWS checks on audit logging and monitoring: log retention and encryption, CloudTrail metric
filters with alarms (CIS AWS Foundations section 4), DNS query logging, EKS control-plane logging
and exposure, Bedrock invocation logging.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status
from checks._judging import CheckFunc, as_list, flag, or_nothing_to_judge
from checks.aws._common import WORLD, arn_account, arn_region, scope_account
from checks.aws._filter_pattern import catches
from checks.aws._watched_events import WATCHED, Watched

TRAILS = "aws.cloudtrail.trails"
LOG_GROUPS = "aws.logs.log_groups"
ALARMS = "aws.cloudwatch.alarms"
VPCS = "aws.ec2.vpcs"
QUERY_LOGGING = "aws.route53resolver.query_log_associations"
CLUSTERS = "aws.eks.clusters"
BEDROCK = "aws.bedrock.invocation_logging"

LOGS_KEPT = "Event logs must be kept long enough to investigate incidents and prove what happened."
RECORDED = "CloudTrail records the event; the metric filter makes each occurrence countable."
ALERTED = "An alarm with an action tells someone about the event as it happens, so it can be acted on."


# --- CloudWatch Logs ------------------------------------------------------------------------------


@check(
    "aws.logs.retention",
    title="CloudWatch log groups keep events for at least the retention period",
    controls={"A.8.15": LOGS_KEPT},
    severity="minor",
    needs=[LOG_GROUPS],
    rationale="Logs deleted after days or weeks are gone by the time most breaches are discovered.",
    remediation="Set the log group's retention to at least the required number of days (or never expire).",
    params={"min_days": 365},
)
@or_nothing_to_judge("CloudWatch log groups")
def log_group_retention(ev: Evidence) -> Iterator[Result]:
    """Each log group must keep events `min_days` or more; without a retention setting they never expire."""
    limit = int(ev.param("min_days"))
    for group in ev.records(LOG_GROUPS):
        name, days = group.data["logGroupName"], group.data.get("retentionInDays")
        if days is None:
            yield Result.of(group, passed=True, reason=f"{name} keeps events forever")
        else:
            kept = f"{name} keeps events {days} days (minimum {limit})"
            yield Result.of(group, passed=int(days) >= limit, reason=kept)


@check(
    "aws.logs.kms_encryption",
    title="CloudWatch log groups are encrypted with a KMS key",
    controls={
        "A.8.24": "A customer managed key puts reading the stored logs under a key policy and its audit trail.",
    },
    severity="ofi",
    needs=[LOG_GROUPS],
    rationale="Logs hold account activity, addresses and sometimes secrets; a KMS key adds a second "
    "permission to read them.",
    remediation="Associate a customer managed KMS key with the log group (logs:AssociateKmsKey).",
)
@or_nothing_to_judge("CloudWatch log groups")
def log_group_kms_encryption(ev: Evidence) -> Iterator[Result]:
    """Each log group must name a KMS key."""
    judge = flag(
        "kmsKeyId", lambda g, on: f"{g.data['logGroupName']} is {'' if on else 'not '}encrypted with KMS"
    )
    yield from map(judge, ev.records(LOG_GROUPS))


# --- CloudTrail metric filters and alarms ---------------------------------------------------------


def _delivers(trail: Record) -> bool:
    """A trail whose events can feed metric filters: multi-region, logging every management event
    and delivering to a CloudWatch Logs group."""
    data = trail.data
    return bool(
        data.get("IsMultiRegionTrail")
        and data.get("IsLogging")
        and data.get("ManagementEvents") == "All"
        and data.get("CloudWatchLogsLogGroupArn")
    )


def _metrics(alarm: Record) -> set[tuple[Any, Any]]:
    watched = [alarm.data, *(alarm.data.get("Metrics") or [])]
    return {(m.get("MetricName"), m.get("Namespace")) for m in watched if m.get("MetricName")}


def _armed(alarm: Record) -> bool:
    return bool(alarm.data.get("ActionsEnabled") and alarm.data.get("AlarmActions"))


def _alarmed(ev: Evidence, trail: Record, w: Watched) -> tuple[list[Record], str]:
    """The records proving the trail's log group alarms on `w` (empty if not), and what was found."""
    name = trail.data["Name"]
    group_arn = str(trail.data["CloudWatchLogsLogGroupArn"]).removesuffix(":*")
    group = ev.index(LOG_GROUPS, lambda g: g.resource_id).get(group_arn)
    if group is None:
        return [], f"trail {name} delivers to {group_arn}, which was not found"
    where = f"{group.data['logGroupName']} (trail {name})"
    filters = [
        f
        for f in group.data.get("metricFilters") or []
        if catches(str(f.get("filterPattern") or ""), list(w.events), list(w.quiet))
    ]
    if not filters:
        return [], f"{where} has no metric filter matching {w.what}"
    names = ", ".join(str(f.get("filterName")) for f in filters)
    metrics = {
        (m.get("metricName"), m.get("metricNamespace")) for f in filters for m in f["metricTransformations"]
    }
    region = arn_region(group.resource_id)
    alarms = [a for a in ev.records(ALARMS) if arn_region(a.resource_id) == region and _metrics(a) & metrics]
    armed = [a for a in alarms if _armed(a)]
    if not armed:
        state = (
            f"only alarm {', '.join(a.data['AlarmName'] for a in alarms)} without an action"
            if alarms
            else "no alarm"
        )
        return [], f"filter {names} on {where} has {state}"
    raised = ", ".join(a.data["AlarmName"] for a in armed)
    return [trail, group, *armed], f"filter {names} on {where} raises alarm {raised}"


def _alarm_check(w: Watched) -> CheckFunc:
    def judge(ev: Evidence) -> Iterator[Result]:
        account = scope_account(ev.scope)
        delivering = [t for t in ev.records(TRAILS) if _delivers(t)]
        faults = []
        for trail in (t for t in delivering if arn_account(t.resource_id) == account):
            proof, found = _alarmed(ev, trail, w)
            if proof:
                yield Result.of(*proof, passed=True, reason=f"{account}: {found}", resource_id=ev.scope)
                return
            faults.append(found)
        others = [t for t in delivering if arn_account(t.resource_id) != account]
        if others:
            trail = others[0]
            owner = arn_account(trail.resource_id)
            reason = (
                f"{account} is logged by organization trail {trail.data['Name']} of account {owner}, "
                "whose metric filters and alarms are judged there"
            )
            yield Result(ev.scope, Status.NOT_APPLICABLE, reason, (trail.hash,) if trail.hash else ())
            return
        reason = (
            "; ".join(faults)
            or "no multi-region trail logging all management events delivers to CloudWatch Logs"
        )
        yield Result.of(
            *ev.records(TRAILS), passed=False, reason=f"{account}: {reason}", resource_id=ev.scope
        )

    judge.__doc__ = f"The account's CloudTrail log group must have a metric filter for {w.what} and an alarm with an action on it."
    return judge


for _w in WATCHED:
    check(
        f"aws.cloudwatch.alarm_{_w.name}",
        title=f"An alarm is raised on {_w.what}",
        controls={"A.8.15": RECORDED, "A.8.16": ALERTED, **_w.controls},
        severity="minor",
        needs=[TRAILS, LOG_GROUPS, ALARMS],
        rationale=f"Without a metric filter and alarm, {_w.what} goes unnoticed until someone reads the logs.",
        remediation="Deliver a multi-region trail to CloudWatch Logs, add a metric filter to its log group "
        f"with the pattern {_w.cis} (or an equivalent one), and an alarm on the filter's metric that "
        "notifies an SNS topic someone is subscribed to.",
    )(_alarm_check(_w))


# --- VPC DNS query logging ------------------------------------------------------------------------


@check(
    "aws.route53resolver.vpc_query_logging",
    title="DNS queries from every VPC are logged",
    controls={
        "A.8.15": "Resolver query logs record which names each resource looked up, and when.",
        "A.8.16": "DNS lookups reveal malware command-and-control and data exfiltration over DNS.",
    },
    severity="minor",
    needs=[VPCS, QUERY_LOGGING],
    rationale="Without DNS query logs, a compromised workload's contact with attacker domains leaves no trace.",
    remediation="Create a Route 53 Resolver query logging configuration and associate it with the VPC.",
)
@or_nothing_to_judge("VPCs")
def vpc_query_logging(ev: Evidence) -> Iterator[Result]:
    """Each VPC needs an ACTIVE query log configuration association."""
    vpcs, listings = ev.records(VPCS), ev.records(QUERY_LOGGING)
    if vpcs and not listings:
        yield Result.error(
            ev.scope, f"no Route 53 Resolver query logging record was collected for {ev.scope}"
        )
        return
    statuses: dict[str, list[str]] = {}
    for listing in listings:
        for a in listing.data.get("associations") or []:
            statuses.setdefault(a.get("ResourceId"), []).append(
                f"{a.get('ResolverQueryLogConfigId')} {a.get('Status')}"
            )
    for vpc in vpcs:
        vid = vpc.data["VpcId"]
        seen = statuses.get(vid, [])
        active = any(s.endswith(" ACTIVE") for s in seen)
        reason = f"{vid} query logging: {', '.join(seen)}" if seen else f"{vid} has no DNS query logging"
        yield Result.of(vpc, *listings, passed=active, reason=reason)


# --- EKS ------------------------------------------------------------------------------------------


@check(
    "aws.eks.control_plane_logging",
    title="EKS control-plane logging is on for the required log types",
    controls={"A.8.15": "The API server, audit and authenticator logs record who did what in the cluster."},
    severity="minor",
    needs=[CLUSTERS],
    rationale="Without audit and authenticator logs, actions in the cluster cannot be attributed or investigated.",
    remediation="Enable the missing control-plane log types in the cluster's logging configuration.",
    params={"log_types": ["api", "audit", "authenticator"]},
)
@or_nothing_to_judge("EKS clusters")
def eks_control_plane_logging(ev: Evidence) -> Iterator[Result]:
    """Every cluster must send each of `log_types` to CloudWatch Logs."""
    wanted = as_list(ev.param("log_types"), "log_types")
    for cluster in ev.records(CLUSTERS):
        enabled = cluster.data.get("enabledLogTypes") or []
        missing = [t for t in wanted if t not in enabled]
        name = cluster.data["name"]
        reason = (
            f"{name} does not log {', '.join(missing)}" if missing else f"{name} logs {', '.join(wanted)}"
        )
        yield Result.of(cluster, passed=not missing, reason=reason)


@check(
    "aws.eks.endpoint_not_public",
    title="EKS cluster API endpoints are not open to the Internet",
    controls={
        "A.8.20": "The Kubernetes API is the cluster's control plane: the network must restrict who reaches it.",
        "A.8.22": "A private or allow-listed endpoint keeps the control plane apart from the Internet.",
    },
    severity="major",
    needs=[CLUSTERS],
    rationale="An API server open to 0.0.0.0/0 is one leaked token or Kubernetes flaw away from takeover.",
    remediation="Turn off public endpoint access, or restrict publicAccessCidrs to known address ranges.",
)
@or_nothing_to_judge("EKS clusters")
def eks_endpoint_not_public(ev: Evidence) -> Iterator[Result]:
    """A public endpoint passes only when its allowed CIDRs exclude anywhere; a cluster listed
    without saying whether its endpoint is public is an error, not a pass."""
    for cluster in ev.records(CLUSTERS):
        name = cluster.data["name"]
        public = cluster.data.get("endpointPublicAccess")
        if public is None:
            yield Result.error(
                cluster.resource_id, f"{name} was listed without saying whether its endpoint is public"
            )
            continue
        if not public:
            yield Result.of(cluster, passed=True, reason=f"{name} has no public endpoint")
            continue
        cidrs = cluster.data.get("publicAccessCidrs") or []
        world = sorted(WORLD.intersection(cidrs)) if cidrs else ["0.0.0.0/0"]
        reason = (
            f"{name}'s public endpoint is open to {', '.join(world)}"
            if world
            else f"{name}'s public endpoint is restricted to {', '.join(cidrs)}"
        )
        yield Result.of(cluster, passed=not world, reason=reason)


@check(
    "aws.eks.secrets_encryption",
    title="EKS clusters encrypt Kubernetes secrets with a KMS key",
    controls={"A.8.24": "Envelope encryption of secrets keeps them unreadable in etcd without the KMS key."},
    severity="minor",
    needs=[CLUSTERS],
    rationale="Kubernetes secrets hold credentials; without envelope encryption they are only base64 in etcd.",
    remediation="Associate a KMS key with the cluster for secrets encryption (encryptionConfig).",
)
@or_nothing_to_judge("EKS clusters")
def eks_secrets_encryption(ev: Evidence) -> Iterator[Result]:
    """Every cluster's encryption configuration must cover `secrets`."""
    for cluster in ev.records(CLUSTERS):
        on = "secrets" in (cluster.data.get("encryptedResources") or [])
        reason = f"{cluster.data['name']} {'encrypts' if on else 'does not encrypt'} secrets with KMS"
        yield Result.of(cluster, passed=on, reason=reason)


# --- Bedrock --------------------------------------------------------------------------------------


@check(
    "aws.bedrock.invocation_logging",
    title="Bedrock model invocations are logged where Bedrock is used",
    controls={"A.8.15": "Invocation logs record who asked which model what, and what it answered."},
    severity="minor",
    needs=[BEDROCK],
    rationale="Without invocation logs, misuse of models or leaks of data through prompts cannot be investigated.",
    remediation="Turn on model invocation logging in the Bedrock settings of the region, to CloudWatch Logs "
    "or S3.",
)
@or_nothing_to_judge("Bedrock model invocations in the last two weeks")
def bedrock_invocation_logging(ev: Evidence) -> Iterator[Result]:
    """A region where models were invoked must log invocations to a log group or a bucket."""
    records = ev.records(BEDROCK)
    if not records:
        yield Result.error(ev.scope, f"no Bedrock record was collected for {ev.scope}")
    for rec in records:
        if not rec.data.get("invoked"):
            continue
        config = rec.data.get("loggingConfig") or {}
        targets = [t for t in (config.get("cloudWatchLogGroup"), config.get("s3Bucket")) if t]
        where = arn_region(rec.resource_id)
        reason = (
            f"{where}: invocations logged to {', '.join(targets)}"
            if targets
            else f"{where}: invocations not logged"
        )
        yield Result.of(rec, passed=bool(targets), reason=reason)
