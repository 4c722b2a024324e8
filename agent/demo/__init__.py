"""`annexa demo`: a simulated organisation collected for real, offline."""
