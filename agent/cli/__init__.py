"""The `annexa` command line: one module per command group, shared options and rendering."""
