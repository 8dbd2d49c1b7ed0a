"""The Braze-compatible user data API: one use case per endpoint, the request/response models and
the composition root (:mod:`engagekit.users.service`). See docs/users-api.md."""
