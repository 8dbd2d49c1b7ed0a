"""engagekit.currents.events loads its per-channel modules on first use (cold start, issue #2).

Which modules an import loads is only observable in a fresh interpreter, so the import cases run
``sys.executable`` in a subprocess (no socket is opened).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from engagekit.currents import events as ev

PACKAGE = "engagekit.currents.events"
SUBMODULES = frozenset({"behaviors", "canvas", "email", "inbox", "push", "registry", "sms", "webhook"})


def loaded_after(code: str) -> set[str]:
    """The engagekit modules loaded in a fresh interpreter after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {name for name in json.loads(out.stdout.splitlines()[-1]) if name.startswith("engagekit.")}


def event_modules(names: set[str]) -> set[str]:
    return {n.removeprefix(f"{PACKAGE}.") for n in names if n.startswith(f"{PACKAGE}.")} - {"base"}


@dataclass
class Case:
    name: str
    code: str
    submodules: frozenset[str]


CASES = [
    Case("package", "from engagekit.currents import events", frozenset()),
    Case(
        "base names",
        "from engagekit.currents.events import CurrentsEvent, MessageIds, UserIds, message_event, "
        "parse_event, user_event, json_string, epoch_seconds, new_event_id, ABORT_TYPES",
        frozenset(),
    ),
    Case("one channel", "from engagekit.currents import events as ev; ev.SmsSend", frozenset({"sms"})),
    Case("from-import", "from engagekit.currents.events import EmailSend", frozenset({"email"})),
    Case("builder", "from engagekit.currents.events import custom_event", frozenset({"behaviors"})),
    Case("registry", "from engagekit.currents.events import EVENT_CLASSES", SUBMODULES),
    Case(
        "first parse",
        "from engagekit.currents.events import parse_event\n"
        'parse_event({"event_type": "users.UserDeleteRequest", "user_id": "u", "time": 1})',
        SUBMODULES,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_an_import_loads_only_the_event_modules_it_names(case: Case) -> None:
    assert event_modules(loaded_after(case.code)) == case.submodules


def test_the_liquid_facade_does_not_load_the_renderer_for_one_submodule() -> None:
    loaded = loaded_after("from engagekit.liquid.connected.guard import UrlGuard")
    assert "engagekit.liquid.render" not in loaded
    assert "engagekit.liquid.render" in loaded_after("from engagekit.liquid import Renderer")


def test_every_event_class_is_exported_by_the_package() -> None:
    exported = [getattr(ev, name) for name in ev.__all__]
    assert set(ev.EVENT_CLASSES) <= {value for value in exported if isinstance(value, type)}
    assert {cls.__name__ for cls in ev.EVENT_CLASSES} <= set(dir(ev))


def test_event_classes_keep_the_documented_order() -> None:
    """Behaviours first, then canvas, then messages by channel (the order of docs/currents.md)."""
    modules = [cls.__module__.rsplit(".", 1)[1] for cls in ev.EVENT_CLASSES]
    order = ["behaviors", "canvas", "email", "push", "sms", "webhook", "inbox"]
    assert sorted(modules, key=order.index) == modules
    assert ev.EVENT_CLASSES[0] is ev.CustomEvent
    assert ev.EVENT_CLASSES[-1] is ev.InAppMessageAbort


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'SmsSent'"):
        _ = ev.SmsSent  # type: ignore[attr-defined]
