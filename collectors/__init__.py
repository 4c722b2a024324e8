"""Collectors: one subpackage per system; each module lists one source's resources."""
