"""Pinterest API v5 shapes (spec 5.23.0) as pydantic models: unknown fields are ignored."""
