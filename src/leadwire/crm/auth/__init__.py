"""Who is calling: API keys, OAuth tokens, scopes."""
