"""Errors the CDK app raises on purpose: a manifest the cloud target cannot express."""

from __future__ import annotations

from engagekit.errors import ConfigError


class SynthError(ConfigError):
    """The manifest or the repository cannot be synthesized (e.g. a missing ``functions/<name>/``)."""


class MissingFunctionCode(SynthError):
    """A manifest function has no code folder ``functions/<name>/`` with a ``handler.py``."""

    def __init__(self, name: str, folder: str) -> None:
        super().__init__(f"function {name!r}: code folder {folder}/handler.py does not exist yet")
        self.name = name
        self.folder = folder
