"""Event webhooks of the embedded CRM: signed, retried with backoff, delivered at least once.

`crm.events.emit` writes deliveries to the outbox table in the same transaction as the change;
`dispatcher.Dispatcher` (started by the CRM app's lifespan) claims due rows and POSTs them;
`signing` keeps the key pair and verifies signatures for receivers; `subscriptions` administers
who receives what. Nothing here is imported by the package itself, so `crm.events` can import
`wakeups` without a cycle.
"""
