"""AWS service checks beyond IAM (S3, CloudTrail, EC2/VPC, KMS, RDS, Config, GuardDuty, ...)."""
