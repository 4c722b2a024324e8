"""The asset inventory as an Annexa system: `[assets]` names a JSON export of the inventory."""
