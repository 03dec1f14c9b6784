"""What the CRM publishes about itself: HighLevel's reference document and our additions to it.

`contacts-v2.openapi.json` is a byte-identical copy of the reference (HighLevel's public docs,
CC0). The modules here hold only data — the schemas and operations we add — and
`leadwire.crm.openapi` applies them, marking each one, so the published document minus the
marked parts is the reference again (a test checks exactly that).
"""
