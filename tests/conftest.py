"""Test tiers: the folder a test lives in decides its tier and its rules.

- tests/unit: no network at all (pytest-socket blocks every socket, enforced here), fakes only.
- tests/integration: handlers in process against moto.
- tests/infra: the CDK app, cfn-lint and cdk-nag.
- tests/e2e: the local runtime over real HTTP on loopback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ENGAGEKIT_DATA_DIR", ROOT.parent / "shared" / "data"))

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("TZ", "UTC")
# Outside Lambda there is no X-Ray daemon nor CloudWatch: keep Powertools' tracer and metrics off
# (the tracer would otherwise open a UDP socket at import, which the unit tier forbids).
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

_TIERS = ("unit", "integration", "infra", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT).parts
        if len(parts) > 1 and parts[0] == "tests" and parts[1] in _TIERS:
            item.add_marker(getattr(pytest.mark, parts[1]))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("unit"):
        disable_socket(allow_unix_socket=False)
    else:
        enable_socket()


@pytest.fixture
def retail_sample() -> Path:
    """The 3-day Online Retail sample; skips with the reason when ../shared/data is absent."""
    path = DATA_DIR / "online-retail" / "sample-2010-12-01-to-03.csv"
    if not path.exists():
        pytest.skip(f"Online Retail sample not found at {path} (set ENGAGEKIT_DATA_DIR)")
    return path
