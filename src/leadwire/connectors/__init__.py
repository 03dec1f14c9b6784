"""Typed clients of the outside APIs; they know nothing of the store or the engine."""
