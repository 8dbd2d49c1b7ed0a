"""``engagekit outbox --full``: each message whole, so personalized emails can be read in a terminal."""

from __future__ import annotations

from typing import Any

import pytest
from engagekit.cli import _client, app
from typer.testing import CliRunner

MESSAGES = [
    {
        "time": "",
        "channel": "email",
        "to": "customer-17850@example.com",
        "summary": "Hi | <p>Hello customer 17850</p>",
        "detail": {"subject": "Hi", "body": "<p>Hello customer 17850</p>\n<ol><li>71053</li></ol>"},
    },
    {"time": "", "channel": "sms", "to": "+447700900000", "summary": "Your code is 1234", "detail": {}},
]


def test_full_prints_every_message_with_its_subject_and_whole_body(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def call(method: str, path: str, body: Any = None) -> Any:
        calls.append((method, path))
        return {"messages": MESSAGES}

    monkeypatch.setattr(_client, "call", call)
    result = CliRunner().invoke(app, ["outbox", "--full", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert calls == [("GET", "/_local/outbox?limit=2")]
    out = result.stdout
    assert "email to customer-17850@example.com" in out and "Subject: Hi" in out
    assert "<ol><li>71053</li></ol>" in out  # the whole body, past the table's 80 characters
    assert "sms to +447700900000" in out and "Your code is 1234" in out


def test_full_says_when_nothing_was_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "call", lambda method, path, body=None: {"messages": []})
    result = CliRunner().invoke(app, ["outbox", "--full"])
    assert result.exit_code == 0 and "(nothing sent yet)" in result.stdout
