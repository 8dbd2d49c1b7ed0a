"""cfn-lint on the synthesized template: no errors; warnings are allowed but listed."""

from __future__ import annotations

import json
import warnings

from tests.infra.conftest import Synth


def test_cfn_lint_reports_no_errors(synth: Synth) -> None:
    # given the synthesized template, when cfn-lint checks it (us-east-1), then no rule reports an error
    from cfnlint.api import lint

    matches = lint(json.dumps(synth.template_json), regions=["us-east-1"])
    errors = [f"{m.rule.id}: {m.message}" for m in matches if m.rule.id.startswith("E")]
    others = [f"{m.rule.id}: {m.message}" for m in matches if not m.rule.id.startswith("E")]
    if others:
        warnings.warn("cfn-lint warnings:\n" + "\n".join(others), UserWarning, stacklevel=1)
    assert errors == []
