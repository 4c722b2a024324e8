"""AWS checks, one module per topic; `_common` and `_policy` are the helpers they share."""
