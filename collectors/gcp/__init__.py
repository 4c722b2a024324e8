"""GCP collectors (google-cloud-resource-manager, REST transport)."""
