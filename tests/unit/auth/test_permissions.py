"""Every permission a route requires is a known one, and keys refuse unknown names."""

from __future__ import annotations

import re
from pathlib import Path

from engagekit.auth.permissions import KNOWN_PERMISSIONS, unknown_permissions

ROOT = Path(__file__).resolve().parents[3]


def test_every_permission_a_route_requires_is_known() -> None:
    used = {
        m.group(1)
        for path in [*ROOT.glob("functions/*/handler.py"), *ROOT.glob("shared/engagekit/**/*.py")]
        for m in re.finditer(r'require\("([a-z_.]+)"\)', path.read_text())
    }
    assert used, "no route permissions found: the scan is broken"
    assert sorted(used - KNOWN_PERMISSIONS) == []


def test_typos_are_unknown_and_the_wildcard_is_not() -> None:
    assert unknown_permissions({"users.trak", "*", "users.track"}) == ["users.trak"]
