"""The catalog service: owns the games data in PostgreSQL."""
