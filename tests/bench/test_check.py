"""``make bench-check`` fails when a figure moves from the baseline, and says which, what and how much.

The figures are measured once against moto (list pages at 100 and 150 documents instead of 20,000,
to stay fast); each test then feeds the check a baseline edited the way a regression would look.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import check

LIST_PAGE = "list page (50)"


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    from moto import mock_aws

    from docuserve.adapters import aws as adapters
    from local.provision import provision

    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        resources = provision(web_origins=["http://localhost:8000"])
        for key, value in resources.function_environment(web_origin="http://localhost:8000").items():
            monkeypatch.setenv(key, value)
        adapters.reset()
        try:
            return check.measure(resources, sizes=(100, 150))
        finally:
            adapters.reset()


def _write(tmp_path: Path, baseline: dict[str, Any]) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    return path


def test_the_measured_figures_equal_themselves(measured: dict[str, Any], tmp_path: Path) -> None:
    assert check.check(_write(tmp_path, measured), measured) == 0


def test_a_baseline_with_one_fewer_call_fails_naming_the_figure_expected_and_got(
    measured: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = copy.deepcopy(measured)
    baseline["aws_calls"][LIST_PAGE]["dynamodb:BatchGetItem"] -= 1

    assert check.check(_write(tmp_path, baseline), measured) == 1
    err = capsys.readouterr().err
    assert f"REGRESSED aws_calls/{LIST_PAGE}/dynamodb:BatchGetItem: expected 0, got 1" in err
    assert "1 regressed" in err


def test_an_api_the_baseline_never_called_is_a_regression_from_zero(
    measured: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = copy.deepcopy(measured)
    del baseline["aws_calls"][LIST_PAGE]["dynamodb:Query"]

    assert check.check(_write(tmp_path, baseline), measured) == 1
    assert f"REGRESSED aws_calls/{LIST_PAGE}/dynamodb:Query: expected 0, got 1" in capsys.readouterr().err


def test_more_items_read_per_page_or_more_bytes_read_back_fail(
    measured: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = copy.deepcopy(measured)
    baseline["list_page"]["150 documents"]["items_read"] -= 1
    baseline["hashing_bytes_read_per_byte_uploaded"]["multipart"] = 0.5
    regressed = copy.deepcopy(measured)  # the checksum step reading the object back again
    regressed["verification_bytes_read_per_byte_uploaded"]["multipart"] = 1.0

    assert measured["verification_bytes_read_per_byte_uploaded"] == {"single PUT": 0.0, "multipart": 0.0}
    assert check.check(_write(tmp_path, baseline), regressed) == 1
    err = capsys.readouterr().err
    assert "REGRESSED list_page/150 documents/items_read: expected 49, got 50" in err
    assert "REGRESSED verification_bytes_read_per_byte_uploaded/multipart: expected 0.0, got 1.0" in err
    assert "REGRESSED hashing_bytes_read_per_byte_uploaded/multipart: expected 0.5, got 1.0" in err


def test_an_improvement_fails_until_the_baseline_is_updated(
    measured: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = copy.deepcopy(measured)
    baseline["round_trips"][LIST_PAGE]["dynamodb"] += 1
    path = _write(tmp_path, baseline)

    assert check.check(path, measured) == 1
    err = capsys.readouterr().err
    assert f"IMPROVED  round_trips/{LIST_PAGE}/dynamodb: expected 3, got 2" in err
    assert check.UPDATE_HINT in err

    assert check.update(path, measured) == 0
    assert check.check(path, measured) == 0


def test_the_committed_baseline_has_the_figures_the_check_measures(measured: dict[str, Any]) -> None:
    committed = json.loads(check.BASELINE.read_text())
    # Same operations and figures; the list sizes differ (100 and 20,000 there, 100 and 150 here).
    assert committed["aws_calls"].keys() == measured["aws_calls"].keys()
    assert committed["round_trips"].keys() == measured["round_trips"].keys()
    assert set(committed["list_page"]) == {f"{n} documents" for n in check.SIZES}
    assert committed["verification_bytes_read_per_byte_uploaded"].keys() == (
        measured["verification_bytes_read_per_byte_uploaded"].keys()
    )
