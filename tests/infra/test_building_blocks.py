"""The app's small rules, without synthesizing: layer contents, JQ query, schedule rate, route ids."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.cdk.constructs.delivery_streams import metadata_extraction_query, processors
from infra.cdk.constructs.triggers import route_id, schedule_minutes
from infra.cdk.errors import MissingFunctionCode, SynthError
from infra.cdk.layer import CLI_ONLY, PROVIDED_BY_LAMBDA, ROOT, build, read_lock, runtime_requirements
from infra.cdk.registry import Resources
from infra.manifest import MANIFEST
from infra.spec import DeliveryStream, Function, Ref, Route, ScheduleTrigger


def layer_requirements() -> dict[str, str]:
    reqs = runtime_requirements(ROOT / "pyproject.toml", ROOT / "requirements.lock")
    return dict(r.split("==", 1) for r in reqs)


def test_layer_has_the_runtime_closure_pinned_from_the_lock() -> None:
    # given pyproject's runtime dependencies, when the layer list is derived, then it holds them and
    # their dependencies at exactly the lock's versions
    reqs = layer_requirements()
    lock = read_lock(ROOT / "requirements.lock")
    for needed in ("aws-lambda-powertools", "aws-xray-sdk", "pydantic", "pydantic-core", "pynamodb",
                   "python-liquid", "babel", "tzdata"):  # fmt: skip
        assert needed in reqs, needed
    assert all(lock[name] == version for name, version in reqs.items())


def test_layer_leaves_out_the_aws_sdk_and_cli_only_packages() -> None:
    # given the SDK ships with the Lambda runtime and typer/rich serve only the CLI, then none is in it
    reqs = layer_requirements()
    assert sorted(set(reqs) & (PROVIDED_BY_LAMBDA | CLI_ONLY)) == []
    assert "urllib3" not in reqs  # reachable only through botocore


def test_lock_must_pin_exactly(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("pydantic>=2\n")
    with pytest.raises(SynthError, match="not an exact pin"):
        read_lock(lock)


@dataclass
class QueryCase:
    keys: tuple[tuple[str, str], ...]
    expected: str


QUERY_CASES = [
    QueryCase((("event_type", ".event_type"),), "{event_type: .event_type}"),
    QueryCase((("a", ".x.y"), ("b", ".z")), "{a: .x.y, b: .z}"),
]


@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda c: c.expected)
def test_partition_keys_become_one_jq_object(case: QueryCase) -> None:
    assert metadata_extraction_query(case.keys) == case.expected


def test_deaggregation_needs_dynamic_partitioning() -> None:
    # Firehose splits packed records only on a dynamically partitioned stream
    spec = DeliveryStream("s", bucket="b", prefix="p/", error_prefix="e/", deaggregation="JSON")
    with pytest.raises(SynthError, match="deaggregation needs partition_keys"):
        processors(spec)


def test_partition_key_must_be_a_jq_identifier() -> None:
    with pytest.raises(SynthError, match="JQ identifier"):
        metadata_extraction_query((("event-type", ".event_type"),))


@dataclass
class RateCase:
    rate_s: int
    minutes: int | None  # None: rejected


RATE_CASES = [RateCase(60, 1), RateCase(3600, 60), RateCase(90, None), RateCase(30, None)]


@pytest.mark.parametrize("case", RATE_CASES, ids=lambda c: f"{c.rate_s}s")
def test_schedule_rate_is_whole_minutes(case: RateCase) -> None:
    # EventBridge rate expressions count whole minutes
    trigger = ScheduleTrigger("tick", rate_s=case.rate_s)
    if case.minutes is None:
        with pytest.raises(SynthError, match="whole number of minutes"):
            schedule_minutes(trigger)
    else:
        assert schedule_minutes(trigger) == case.minutes


@dataclass
class RouteCase:
    route: Route
    expected: str


ROUTE_CASES = [
    RouteCase(Route("GET", "/health"), "GET_health"),
    RouteCase(Route("POST", "/users/track"), "POST_users_track"),
    RouteCase(Route("GET", "/skeleton/ping/{ping_id}"), "GET_skeleton_ping_{ping_id}"),
    RouteCase(Route("DELETE", "/files/{proxy+}"), "DELETE_files_{proxy+}"),
]


@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: c.route.route_key)
def test_route_construct_id_has_no_path_separator(case: RouteCase) -> None:
    assert route_id(case.route) == case.expected


def test_unknown_reference_is_a_synth_error() -> None:
    with pytest.raises(SynthError, match="cannot resolve"):
        Resources().resolve(Ref("table", "nope"))


def test_function_without_code_folder_is_reported_by_name(tmp_path: Path) -> None:
    # given a manifest function whose functions/<name>/handler.py does not exist, when the app is
    # built, then it stops with MissingFunctionCode naming the function (before any synthesis)
    from infra.cdk.app import build_app

    ghost = Function("ghost_fn", "not written yet")
    manifest = dataclasses.replace(MANIFEST, functions=(*MANIFEST.functions, ghost))
    with pytest.raises(MissingFunctionCode, match="ghost_fn"):
        build_app(manifest, layer_dir=tmp_path, outdir=str(tmp_path / "out"))


def test_layer_build_asks_pip_for_arm64_cp312_wheels_and_adds_the_library(tmp_path: Path) -> None:
    # given a stand-in for pip that records its arguments, when the layer is built, then pip is asked
    # for manylinux2014_aarch64 CPython 3.12 binary wheels of the pinned closure into <target>/python,
    # and the engagekit library is copied next to them
    argv_file = tmp_path / "argv.json"
    record = f"import json, sys; open({str(argv_file)!r}, 'w').write(json.dumps(sys.argv))"
    fake_pip = (sys.executable, "-c", record)
    target = build(tmp_path / "layer", pip=fake_pip, python=(sys.executable,))
    argv = json.loads(argv_file.read_text())
    flags = " ".join(argv)
    for flag in ("--platform manylinux2014_aarch64", "--only-binary=:all:", "--python-version 3.12",
                 "--implementation cp", "--no-deps", f"--target {target / 'python'}"):  # fmt: skip
        assert flag in flags, flag
    pins = sorted(f"{n}=={v}" for n, v in layer_requirements().items())
    assert sorted(a for a in argv if "==" in a) == pins
    assert (target / "python" / "engagekit" / "__init__.py").is_file()


def test_layer_ships_unchecked_hash_bytecode_for_the_target_python(tmp_path: Path) -> None:
    # given a layer build with a compiling interpreter, then every module of the library has a pyc
    # for that interpreter whose PEP 552 flags say "hash-based, unchecked" (valid after the zip
    # round trip whatever the timestamps), and the CDK asset keeps them
    fake_pip = (sys.executable, "-c", "pass")
    site = build(tmp_path / "layer", pip=fake_pip, python=(sys.executable,)) / "python"
    sources = sorted((site / "engagekit").rglob("*.py"))
    tag = sys.implementation.cache_tag
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert pyc.is_file(), pyc
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, (pyc, flags)  # bit 0: hash-based; bit 1 (check_source) clear
    assert len(sources) > 100


def test_layer_without_the_target_python_ships_sources_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("infra.cdk.layer.target_python", lambda: None)
    site = build(tmp_path / "layer", pip=(sys.executable, "-c", "pass")) / "python"
    assert not list(site.rglob("*.pyc"))
    assert "ships sources only" in capsys.readouterr().err


def test_failed_layer_build_is_a_synth_error_and_leaves_nothing(tmp_path: Path) -> None:
    failing_pip = (sys.executable, "-c", "raise SystemExit(3)")
    with pytest.raises(SynthError, match="exit 3"):
        build(tmp_path / "layer", pip=failing_pip)
    assert not (tmp_path / "layer").exists()
