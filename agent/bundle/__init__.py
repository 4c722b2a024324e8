"""Evidence bundles: signed export and offline verification."""
