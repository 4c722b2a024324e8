"""Jira Cloud and Data Center, through the `jira` package: one issue per accepted nonconformity."""
