"""pynamodb models bound to a table name known only at run time (from a function's settings).

``bind(ProfileItem, "profiles-abc")`` returns a subclass whose ``Meta.table_name`` is that name.
Bound classes are cached per (model, table, host): pynamodb keeps one connection (and botocore
client) per model class, so binding anew per call would rebuild the client every time.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar

from pynamodb.models import Model

M = TypeVar("M", bound=Model)


@cache
def _bind(model: type[Model], table: str, host: str | None) -> type[Model]:
    meta: dict[str, object] = {"table_name": table}
    if host:
        meta["host"] = host
    return type(f"Bound{model.__name__}", (model,), {"Meta": type("Meta", (), meta)})


def bind(model: type[M], table: str, host: str | None = None) -> type[M]:
    """``model`` bound to ``table`` (and an endpoint ``host`` such as the local AWS port)."""
    return _bind(model, table, host)  # type: ignore[return-value]
