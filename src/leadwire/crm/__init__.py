"""The embedded CRM: a complete HighLevel Contacts API v2 on its own store."""
