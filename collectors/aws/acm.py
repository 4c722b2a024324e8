"""ACM evidence, per region: certificates with their expiry, status and whether anything uses them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

DAY = timedelta(hours=24)
CERTIFICATES = Api("list_certificates", "acm:ListCertificates", items="CertificateSummaryList")


def _certificate(cert: dict[str, Any]) -> dict[str, Any]:
    """The summary's own fields: ListCertificates carries expiry and use, so no per-certificate call."""
    return {
        **fields(cert, "DomainName", "Status", "Type", "KeyAlgorithm", "RenewalEligibility"),
        "InUse": bool(cert.get("InUse")),
        "NotAfter": iso(cert.get("NotAfter")),
    }


@collector("aws.acm.certificates", scope="aws_region", freshness=DAY, permissions=permissions(CERTIFICATES))
def certificates(ctx: AwsRegion) -> Iterator[Record]:
    """Every certificate of every key type (unfiltered, ListCertificates returns RSA-2048 ones only)."""
    acm = ctx.client("acm")
    key_types = acm.meta.service_model.shape_for("KeyAlgorithm").enum
    yield from CERTIFICATES.records(
        acm, itemgetter("CertificateArn"), _certificate, Includes={"keyTypes": key_types}
    )
