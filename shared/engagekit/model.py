"""The base of engagekit's pydantic models: schemas built on first use, not at import.

Every request, definition, event and profile model derives from :class:`Model`. With
``defer_build=True`` pydantic builds a model's validator and serializer the first time the model
validates or serializes something, instead of when its module is imported, so a Lambda cold start
pays only for the models the invoked route uses (most functions import far more models than one
request touches). Each model is built once per process. Issue #2's cold-import goal is measured by
``python -m bench runtime`` (docs/benchmarks.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    """``pydantic.BaseModel`` with ``defer_build=True``; subclasses' configs merge with it."""

    model_config = ConfigDict(defer_build=True)


class Request(Model):
    """Base of REST request bodies: unknown top-level fields ignored, the legacy ``api_key`` field
    accepted (braze-api.md §0)."""

    model_config = ConfigDict(extra="ignore")
    api_key: str | None = Field(default=None, description="Legacy key field; prefer Authorization: Bearer")
