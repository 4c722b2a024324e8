"""Simulated APIs on loopback: the servers the tests drive the real SDKs against, and the demo's
organisation. Each speaks its API's real JSON, paging, rate-limit headers and errors."""
