"""docs/openapi.json is generated from the request/response models and must be current."""

from __future__ import annotations

from pathlib import Path

from engagekit.users.openapi import OPERATIONS, build_openapi, render

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_checked_in_openapi_document_is_current() -> None:
    # regenerate with: python -m engagekit.users.openapi > docs/openapi.json
    assert DOC.read_text() == render()


def test_every_operation_documents_success_and_braze_errors() -> None:
    doc = build_openapi()
    for op in OPERATIONS:
        responses = doc["paths"][op.path][op.method.lower()]["responses"]
        assert {str(op.status), "400", "401", "403", "429"} <= set(responses)
