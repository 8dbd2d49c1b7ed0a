"""Typed configuration at the edge: each function's environment is a pydantic model.

A handler declares ``class Settings(FunctionSettings)`` with its variables as fields and reads
them through :func:`load_settings`, which validates ``os.environ`` once, on first use (never at
import time), and raises :class:`engagekit.errors.ConfigError` naming every missing variable.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import ConfigDict
from pydantic import ValidationError as PydanticValidationError

from engagekit.errors import ConfigError
from engagekit.model import Model


class FunctionSettings(Model):
    """Base for a function's settings: field ``profiles_table`` reads ``PROFILES_TABLE``."""

    model_config = ConfigDict(frozen=True, extra="ignore")


S = TypeVar("S", bound=FunctionSettings)


@cache
def load_settings(cls: type[S]) -> S:
    """``cls`` validated from the environment (upper-cased field names), cached per process."""
    values = {name: os.environ.get(name.upper()) for name in cls.model_fields}
    try:
        return cls.model_validate({k: v for k, v in values.items() if v is not None})
    except PydanticValidationError as exc:
        missing = [".".join(str(p) for p in e["loc"]).upper() for e in exc.errors()]
        raise ConfigError(f"{cls.__name__}: invalid or missing environment: {', '.join(missing)}") from exc
