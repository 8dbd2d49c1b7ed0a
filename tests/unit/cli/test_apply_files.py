"""Loading and diffing definition files for ``engagekit apply`` (no platform needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from engagekit.cli.apply import DefinitionError, comparable, diff_text, load_definitions


def write(tmp: Path, name: str, data: object) -> None:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if name.endswith(".json") else str(data))


def test_definitions_load_in_dependency_order_from_json_and_yaml(tmp_path: Path) -> None:
    write(tmp_path, "campaigns/welcome.json", {"kind": "campaign", "id": "welcome", "name": "Welcome"})
    write(tmp_path, "segments/uk.yaml", "kind: segment\nid: uk\nname: UK\nfilter: {country: {value: GB}}\n")
    write(tmp_path, "blocks.json", [{"kind": "content_block", "id": "footer", "content": "bye"}])
    write(tmp_path, "README.md", "not a definition")
    defs = load_definitions(tmp_path)
    assert [(d.kind, d.id) for d in defs] == [
        ("content_block", "footer"),
        ("segment", "uk"),
        ("campaign", "welcome"),
    ]
    assert defs[1].body == {"name": "UK", "filter": {"country": {"value": "GB"}}}


@dataclass
class Case:
    name: str
    data: object
    message: str


BAD = [
    Case("unknown kind", {"kind": "segmnt", "id": "x"}, "'kind' must be one of"),
    Case("missing id", {"kind": "segment"}, "'id' must be a non-empty string"),
    Case("not an object", [1], "a definition is a JSON object"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_files_are_refused_with_the_file_named(tmp_path: Path, case: Case) -> None:
    write(tmp_path, "bad.json", case.data)
    with pytest.raises(DefinitionError, match=case.message) as err:
        load_definitions(tmp_path)
    assert "bad.json" in str(err.value)


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"kind": "segment", "id": "s"})
    write(tmp_path, "b.json", {"kind": "segment", "id": "s"})
    with pytest.raises(DefinitionError, match="also defined in"):
        load_definitions(tmp_path)


def test_diff_ignores_server_fields_and_is_empty_when_equal() -> None:
    wanted = {"name": "UK", "filter": {"a": 1}}
    server = {"id": "uk", "name": "UK", "filter": {"a": 1}, "state": "live", "size": 10}
    assert diff_text("segment", "uk", comparable(server, wanted), wanted) == ""
    changed = diff_text(
        "segment",
        "uk",
        comparable(server, {"name": "UK2", "filter": {"a": 1}}),
        {"name": "UK2", "filter": {"a": 1}},
    )
    assert '-  "name": "UK"' in changed and '+  "name": "UK2"' in changed
    assert diff_text("segment", "new", None, wanted).startswith("--- segment/new (platform)")


def test_every_bad_file_is_reported_in_one_run(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"kind": "segmnt", "id": "x"})
    write(tmp_path, "b.json", "{not json")
    write(tmp_path, "c.json", {"kind": "segment", "id": "fine"})
    with pytest.raises(DefinitionError) as err:
        load_definitions(tmp_path)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and "a.json" in lines[0] and "b.json" in lines[1]
