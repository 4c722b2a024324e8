"""GCP IAM checks across the organisation hierarchy."""
