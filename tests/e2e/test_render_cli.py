"""``engagekit render`` against the local platform over real HTTP: the rendered text (exit 0), the
abort reason (exit 1) and syntax errors as FILE:LINE:COLUMN (exit 2), for a real user's profile with
a content block stored through the API (docs/liquid.md "Previews")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from tests.e2e.conftest import Http

pytestmark = pytest.mark.skipif(
    not {"/templates/render", "/users/track"} <= {route.path for route, _ in MANIFEST.routes()},
    reason="/templates/render or /users/track is not in infra/manifest.py",
)


@pytest.fixture(scope="module", autouse=True)
def stored(http: Http) -> None:
    """User cli-ann and the content block ``cli-sig``, created through the API."""
    attributes = {"external_id": "cli-ann", "first_name": "Ann", "plan": "gold"}
    status, _, body = http.call("POST", "/users/track", {"attributes": [attributes]})
    assert status == 201, body
    status, _, body = http.call("PUT", "/content_blocks/cli-sig", {"content": "-- {{${first_name}}}'s team"})
    assert status in (200, 201), body


@dataclass
class CliCase:
    name: str
    template: str
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    options: list[str] = field(default_factory=list)
    user: str = "cli-ann"


CASES = [
    CliCase(
        "rendered_with_properties_and_block",
        "Hi {{${first_name}}} ({{custom_attribute.${plan}}}): {{api_trigger_properties.${coupon}}} "
        "{{context.${step}}}\n{{content_blocks.${cli-sig}}}\n",
        0,
        stdout="Hi Ann (gold): SAVE10 2\n-- Ann's team\n",
        options=["--trigger-properties", '{"coupon": "SAVE10"}', "--context", '{"step": 2}'],
    ),
    CliCase(
        "aborted_with_reason",
        "{% if custom_attribute.${plan} == 'gold' %}"
        "{% abort_message('gold users get another mail') %}{% endif %}",
        1,
        stderr="aborted: gold users get another mail (abort_message)",
    ),
    CliCase(
        "strict_undefined_aborts",
        "Hi {{ nickname }}",
        1,
        stderr="aborted: undefined variable: 'nickname' is undefined (undefined_variable)",
        options=["--strict"],
    ),
    CliCase("lax_undefined_is_blank", "Hi {{ nickname }}!", 0, stdout="Hi !\n"),
    CliCase(
        "syntax_error_position",
        "Hi\n{% if ${first_name} %}\nno end",
        2,
        stderr=":3:7: syntax error: expected tag endif",
    ),
    CliCase(
        "unknown_filter", "ok\n  {{ 'x' | shout }}", 2, stderr=":2:12: syntax error: unknown filter 'shout'"
    ),
    CliCase("unknown_user", "Hi", 1, stderr="no user with external_id 'cli-nobody'", user="cli-nobody"),
    CliCase(
        "bad_json_option", "Hi", 2, stderr="must be a JSON object", options=["--trigger-properties", "[1]"]
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_engagekit_render(platform: LocalPlatform, tmp_path: Path, case: CliCase) -> None:
    from engagekit.cli import app

    source = tmp_path / "message.liquid"
    source.write_text(case.template, encoding="utf-8")
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key or ""}
    result = CliRunner().invoke(app, ["render", str(source), "--user", case.user, *case.options], env=env)
    assert result.exit_code == case.exit_code, (result.stdout, result.stderr)
    assert result.stdout == case.stdout
    assert case.stderr in result.stderr
    if case.exit_code == 2 and "syntax error" in case.stderr:
        assert result.stderr.startswith(str(source) + ":")


def test_engagekit_render_prints_connected_content_refusals_as_warnings(
    platform: LocalPlatform, tmp_path: Path
) -> None:
    from engagekit.cli import app

    source = tmp_path / "cc.liquid"
    source.write_text("[{% connected_content http://169.254.169.254/latest/meta-data %}]", encoding="utf-8")
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key or ""}
    result = CliRunner().invoke(app, ["render", str(source), "--user", "cli-ann"], env=env)
    assert (result.exit_code, result.stdout) == (0, "[]\n")
    assert "warning: connected_content:" in result.stderr and "metadata" in result.stderr


def test_the_render_endpoint_answers_over_http_with_rate_limit_headers(http: Http) -> None:
    status, headers, body = http.call(
        "POST", "/templates/render", {"template": "{{${user_id}}}", "external_id": "cli-ann"}
    )
    assert (status, body["status"], body["text"]) == (200, "rendered", "cli-ann")
    assert "x-ratelimit-limit" in {name.lower() for name in headers}
