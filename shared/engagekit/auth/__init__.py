"""API keys: random secrets shown once, stored only as SHA-256 hashes, scoped to Braze permissions."""

from engagekit.auth.keys import ALL_PERMISSIONS, ApiKey, KeyStore, NewKey, hash_secret

__all__ = ["ALL_PERMISSIONS", "ApiKey", "KeyStore", "NewKey", "hash_secret"]
