"""Revisions of the sandbox store's schema."""
