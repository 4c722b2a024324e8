"""A generic HTTPS webhook: each message as JSON, signed with HMAC-SHA256."""
