"""Pinterest API v5, lead ads: OAuth, forms, subscriptions, exports, webhook decoding.

The public surface: `PinterestClient` (client.py) and what it composes — `PinterestAuth`
(auth.py), `PinterestEndpoints`/`OAuthApp`/`TokenSet` and the PKCE helpers (oauth.py) — the
`Lead` type (leads.py), `decode_delivery` (envelope.py) and `read_export` (exports.py). Errors
are the classes of `leadwire.errors`, refined in errors.py with Pinterest's `code` and `message`.
"""
