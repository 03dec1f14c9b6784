"""The HighLevel (LeadConnector) Contacts API v2, every operation: HighLevel or the embedded CRM.

The public surface: `ContactsClient` (client.py) and what it composes — `StaticTokenAuth` and
`HighLevelOAuth` (auth.py), `ContactsEndpoints`/`OAuthApp`/`TokenSet` and the code exchange
(oauth.py), `RateBudget` (ratelimits.py), the marker format of `ensure_task`/`ensure_note`
(markers.py) and the wire models (wire/). Errors are the classes of `leadwire.errors`, refined in
errors.py with the API's `statusCode`, `message` and `traceId`; `DuplicateContactError` carries
the `contact_id` a refused duplicate matched.
"""
