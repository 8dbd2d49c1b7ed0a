"""The CDK app: ``python -m infra.cdk.app`` (``make synth``) synthesizes infra/manifest.py into cdk.out/.

Offline and without Docker. Uses the dependency layer built by ``python -m infra.cdk.layer`` when
present, else a layer of just ``shared/engagekit`` (printed as a one-line notice). cdk-nag's
AwsSolutions pack runs on every synthesis; unacknowledged errors fail it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aws_cdk import App

from infra.cdk import constants as C
from infra.cdk import nag
from infra.cdk.errors import SynthError
from infra.cdk.layer import ROOT, layer_asset
from infra.cdk.stack import EngagekitStack
from infra.manifest import MANIFEST
from infra.spec import Manifest


def build_app(
    manifest: Manifest = MANIFEST,
    *,
    root: Path = ROOT,
    layer_dir: Path,
    outdir: str | None = None,
) -> tuple[App, EngagekitStack]:
    """The app with one :class:`EngagekitStack` and cdk-nag registered; not yet synthesized.

    ``outdir`` defaults to ``$CDK_OUTDIR`` (set by the cdk CLI) or ``cdk.out``. Raises
    :class:`SynthError` (e.g. :class:`~infra.cdk.errors.MissingFunctionCode`) for a manifest the
    cloud target cannot build.
    """
    app = App(
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(root / "cdk.out"),
        post_cli_context=dict(C.FEATURE_FLAGS),
        stack_traces=False,
    )
    nag.add_checks(app)
    stack = EngagekitStack(app, C.STACK_ID, manifest=manifest, root=root, layer_dir=layer_dir)
    return app, stack


def main() -> int:
    """Synthesize; exit 0, or 1 with one line on stderr when the manifest cannot be built."""
    layer_dir, full = layer_asset()
    if not full:
        print(
            f"notice: layer has only shared/engagekit ({layer_dir.relative_to(ROOT)}); "
            "build the full one with `python -m infra.cdk.layer` before deploying",
            file=sys.stderr,
        )
    try:
        app, _ = build_app(layer_dir=layer_dir)
        app.synth()
    except SynthError as exc:
        print(f"synth failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
