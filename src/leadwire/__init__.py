"""leadwire: Pinterest Lead Ads into a CRM's Contacts API, durably and without code."""

__version__ = "0.1.0"
