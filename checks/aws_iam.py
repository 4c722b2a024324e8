"""AWS IAM checks."""
