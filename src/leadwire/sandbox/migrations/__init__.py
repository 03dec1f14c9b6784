"""Alembic migrations of the sandbox store (version table `sandbox_alembic_version`)."""
