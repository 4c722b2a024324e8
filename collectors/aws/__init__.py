"""AWS collectors: settings.py holds `[aws]`, plugin.py is what the entry point loads, one module
per service."""
