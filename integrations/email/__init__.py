"""E-mail over SMTP (STARTTLS or implicit TLS)."""
