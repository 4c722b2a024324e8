"""Configuration: the settings root and core sections, durations and cadences, secrets, error messages."""
