"""`annexa run`: collection on a schedule, health and readiness endpoints, Prometheus metrics."""
