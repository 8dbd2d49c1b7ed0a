"""Where the source tree is, for commands that need ``infra/`` (the manifest, the local runtime).

engagekit is run from a checkout (``make run`` installs it editable), so the tree is two folders
above this package: ``<root>/shared/engagekit``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ensure_infra_importable() -> Path:
    """Put the checkout root on ``sys.path`` so ``import infra`` works; returns the root.

    Raises ``RuntimeError`` when engagekit is not installed from a checkout.
    """
    if not (ROOT / "infra" / "manifest.py").exists():
        raise RuntimeError(f"no engagekit checkout at {ROOT}: local commands run from a clone (make run)")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return ROOT
