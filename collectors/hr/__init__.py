"""HR collectors: settings.py holds `[hr]`, plugin.py is what the entry point loads, one module
per service."""
