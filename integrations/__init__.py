"""The built-in notification channels and ticket trackers, each a plugin like any third party's."""
