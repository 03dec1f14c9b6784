"""The `leadwire` command line."""
