"""Storage plumbing shared by every part: engines, sessions, the declarative base."""

from leadwire.store.database import create_db_engine, session_factory

__all__ = ["create_db_engine", "session_factory"]
