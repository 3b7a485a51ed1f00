"""Signal receivers of the feed app: webhooks ride the change rows (filled in with the webhooks)."""
