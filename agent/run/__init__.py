"""A run: planning what to collect, the lease/heartbeat/seal session, collection, evaluation, sharding."""
