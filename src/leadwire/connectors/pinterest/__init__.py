"""Pinterest API v5, lead ads: OAuth, forms, subscriptions, exports, webhook decoding."""
