"""Reads and writes of CRM records shared by several routes."""
