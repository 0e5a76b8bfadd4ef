"""bench.cold measures what ships: project bytecode as in the assets, and members' first router only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bench import cold


def test_the_shipped_copy_carries_unchecked_bytecode_for_the_measuring_python(tmp_path: Path) -> None:
    pythonpath = cold.project_copy(tmp_path, bytecode=True)
    functions_dir, layer_python = (Path(p) for p in pythonpath.split(":"))
    source = functions_dir / "handlers" / "members.py"
    pyc = Path(importlib.util.cache_from_source(str(source)))
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, never checked against the source
    assert (layer_python / "docuserve" / "__init__.py").is_file()


def test_the_source_copy_has_no_bytecode_whatever_the_checkout_holds(tmp_path: Path) -> None:
    cold.project_copy(tmp_path, bytecode=False)
    assert list(tmp_path.rglob("*.pyc")) == []
    assert (tmp_path / "functions" / "handlers" / "members.py").is_file()


def test_a_members_cold_start_includes_the_router_of_its_first_request() -> None:
    code = cold.function_code("handlers.members", ("dynamodb",))
    assert "handlers.members.prepare({'httpMethod': 'GET', 'resource': '/workspaces'})" in code
    other = cold.function_code("handlers.members", ("dynamodb",), ("GET", "/documents/{document_id}/download"))
    assert "'/documents/{document_id}/download'" in other
    assert "prepare" not in cold.function_code("handlers.admin", ("dynamodb",))


def test_a_sample_reports_wall_and_cpu_seconds_of_the_program() -> None:
    wall, cpu = cold.sample(cold.Variant("busy", "sum(i * i for i in range(300_000))"))
    assert wall > 0
    assert 0 < cpu <= wall * 2  # one thread: CPU time cannot run far ahead of the wall clock


def test_the_measured_code_runs_in_a_frame_with_room_on_the_data_stack() -> None:
    # The room keeps a cold start inside one data-stack chunk (bench.cold's docstring, gh-142183).
    check = (
        "import sys\n"
        "caller = sys._getframe(1).f_code\n"
        f"assert caller.co_name == '_room' and caller.co_stacksize >= {cold.STACK_ROOM}, caller\n"
        "assert __name__ == '__main__'\n"
    )
    wall, _cpu = cold.sample(cold.Variant("room", check))
    assert wall > 0
    bare = cold.program("x = 1", stack_room=False)
    assert "_room" not in bare


def test_functions_are_measured_as_in_lambda_and_the_collector_comparison_unsets_it() -> None:
    as_in_lambda = cold._environment(cold.Variant("members", "pass"))
    assert as_in_lambda["AWS_LAMBDA_FUNCTION_NAME"]
    unpaused = cold._environment(cold.Variant("members@collector", "pass", env=(("AWS_LAMBDA_FUNCTION_NAME", ""),)))
    assert unpaused["AWS_LAMBDA_FUNCTION_NAME"] == ""


def test_the_measuring_python_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_PYTHON", "/opt/python3.13/bin/python")
    assert cold.interpreter() == "/opt/python3.13/bin/python"
    monkeypatch.delenv("BENCH_PYTHON")
    assert Path(cold.interpreter()).name.startswith("python")


def test_the_floor_is_powertools_resolver_with_validation_logger_and_metrics_plus_the_baseline() -> None:
    assert cold.FLOOR.endswith(cold.BASELINE)
    assert "APIGatewayRestResolver(enable_validation=True)" in cold.FLOOR
    assert "Logger()" in cold.FLOOR
    assert "Metrics()" in cold.FLOOR
