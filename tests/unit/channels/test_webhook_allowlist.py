"""Operators can let webhooks reach named ADDRESS:PORT targets the SSRF guard refuses by default."""

from __future__ import annotations

import pytest
from engagekit.channels.providers import webhook_fetcher
from engagekit.errors import ConfigError
from engagekit.liquid.errors import FetchRefused


def guard_of(allowed: str):  # type: ignore[no-untyped-def]
    return webhook_fetcher(allowed).guard  # type: ignore[attr-defined]


def test_by_default_a_loopback_receiver_is_refused() -> None:
    with pytest.raises(FetchRefused):
        guard_of("").check("http://127.0.0.1:9000/hooks")


def test_an_allowed_target_is_reached_and_others_still_refused() -> None:
    guard = guard_of("127.0.0.1:9000, [::1]:9001")
    assert guard.check("http://127.0.0.1:9000/hooks").port == 9000
    assert guard.check("http://[::1]:9001/x").port == 9001
    with pytest.raises(FetchRefused):
        guard.check("http://169.254.169.254/latest/meta-data")
    with pytest.raises(FetchRefused):
        guard.check("http://10.0.0.5:9000/")


@pytest.mark.parametrize("bad", ["127.0.0.1", "localhost:9000", "127.0.0.1:port"])
def test_a_malformed_item_is_a_config_error_naming_it(bad: str) -> None:
    with pytest.raises(ConfigError, match="is not ADDRESS:PORT"):
        webhook_fetcher(bad)
