"""The Pinterest sandbox: a local emulator of the Pinterest API v5 lead-ads operations."""
