"""Slack, through slack-sdk: a bot token and a channel, or an incoming webhook."""
