"""GitHub collectors: settings.py holds `[github]`, plugin.py is what the entry point loads, one module
per service."""
