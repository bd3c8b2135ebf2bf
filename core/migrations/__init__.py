"""Alembic migrations. ``core.migrate`` runs them; they never import the TUI."""
