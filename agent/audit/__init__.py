"""What the audit sees: nonconformities (opened by checks, moved on by people), controls, SoA, attestations, status."""
