"""Google Workspace collectors (Admin SDK Directory API): settings.py holds `[google_workspace]`,
plugin.py is what the entry point loads, one module per listing (users, admin role assignments)."""
