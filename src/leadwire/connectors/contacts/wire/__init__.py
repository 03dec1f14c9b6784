"""Pydantic models of the Contacts API's bodies: what we send (strict), what we read (lenient)."""
