"""Microsoft Teams, through a Workflows (or incoming) webhook: each message as an Adaptive Card."""
