"""AWS service checks beyond IAM, registered from their topic modules.

Data at rest (S3, EBS, KMS, RDS, Backup), network exposure (security groups, flow logs, IMDS),
logging and monitoring (CloudTrail, Config, GuardDuty, Security Hub, Inspector) and governance
(Organizations, security contacts).
"""

from __future__ import annotations

from checks import _aws_data, _aws_governance, _aws_monitoring, _aws_network

__all__ = ["_aws_data", "_aws_governance", "_aws_monitoring", "_aws_network"]
