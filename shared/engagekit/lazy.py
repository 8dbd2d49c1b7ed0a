"""Package facades that import their submodules on first use (PEP 562), for Lambda cold starts.

A package such as :mod:`engagekit.liquid` re-exports names from many submodules. Importing them
all in its ``__init__`` makes every function that needs one of them pay for all of them at cold
start (issue #2: a handler's cold import adds < 20% over its third-party dependencies, measured by
``python -m bench runtime``). A lazy facade maps each public name to its submodule instead::

    from engagekit import lazy

    if TYPE_CHECKING:  # what type checkers (and readers) see
        from engagekit.liquid.render import Renderer

    __all__ = ["Renderer"]

    if not TYPE_CHECKING:  # hidden from type checkers, so they still flag a misspelt name
        __getattr__, __dir__ = lazy.exports(__name__, {"Renderer": "engagekit.liquid.render"})

``package.Renderer`` and ``from package import Renderer`` import ``engagekit.liquid.render`` the
first time and keep the value in the package's namespace, so later lookups cost nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, modules: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose names ``modules`` maps to submodules.

    ``modules`` maps a public name to the absolute module that defines it. The ``__getattr__``
    imports that module on the name's first lookup, stores the value in the package's namespace
    and returns it; it raises :class:`AttributeError` for a name not in ``modules``.
    """

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *modules})

    return __getattr__, __dir__
