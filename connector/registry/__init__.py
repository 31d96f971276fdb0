"""Business-register checks before escalation (Brønnøysund Enhetsregisteret; CVR later)."""
