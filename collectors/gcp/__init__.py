"""GCP collectors: settings.py holds `[gcp]`, plugin.py is what the entry point loads, one module
per service."""
