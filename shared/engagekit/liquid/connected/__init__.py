"""Connected Content: the HTTP port, its SSRF guard, stores and semantics (braze-api.md §5.4).

The real adapter (:mod:`engagekit.liquid.connected.urllib3_fetcher`) is imported on demand so that
senders which never call out do not import urllib3 at cold start.
"""
