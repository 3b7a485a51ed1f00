"""The change feed (``/api/v1/changes/``) and the webhooks that carry the same events outward."""
