"""People and identity checks: joiners, movers, leavers, MFA, privileged roles (Entra, HR, AWS)."""
