"""`engagekit local` edges: taken ports fail with one clear error; /_local/ follows the key store."""

from __future__ import annotations

import socket

import pytest
from engagekit.auth import KeyStore
from engagekit.clock import ManualClock

from infra.local.runtime import LocalPlatform, PortInUseError
from tests.e2e.conftest import Http


@pytest.mark.parametrize("which", ["api", "aws"])
def test_a_taken_port_is_a_port_in_use_error_and_nothing_else(which: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kwargs = {"api_port": port, "aws_port": 0} if which == "api" else {"api_port": 0, "aws_port": port}
        platform = LocalPlatform(clock=ManualClock(), background=False, **kwargs)
        with pytest.raises(PortInUseError, match=f"port {port} .* is taken"):
            platform.start()


def test_local_admin_paths_accept_any_admin_key_and_refuse_revoked_or_scoped_ones(
    platform: LocalPlatform, http: Http
) -> None:
    store = KeyStore(platform.refs[("table", "api_keys", "name")])
    second_admin = store.create("second admin", {"*"})
    scoped = store.create("tracker", {"users.track"})
    assert http.call("POST", "/_local/flush", key=second_admin.secret)[0] == 200
    assert http.call("POST", "/_local/flush", key=scoped.secret)[0] == 401
    store.revoke(second_admin.key.key_id)
    assert http.call("POST", "/_local/flush", key=second_admin.secret)[0] == 401
    assert http.call("POST", "/_local/flush")[0] == 200  # the platform's own admin key still works
