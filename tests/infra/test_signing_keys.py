"""The manifest-signing key: one KMS P-256 SIGN_VERIFY key per listed date; only signers may Sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docuserve.routes import Function
from infra.functions import AUDIT_CHECKPOINTS, MANIFEST_SIGNERS, SPECS
from tests.infra.conftest import stage_context, synth
from tests.infra.test_audit_stream_and_share_roles import _role_statements


def _signing_keys(template: Any) -> dict[str, Any]:
    keys = template.find_resources("AWS::KMS::Key")
    return {k: v for k, v in keys.items() if v["Properties"].get("KeyUsage") == "SIGN_VERIFY"}


def _kms_statements(template: Any, function: str) -> list[dict[str, Any]]:
    out = []
    for s in _role_statements(template, function):
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        if any(a in ("kms:Sign", "kms:GetPublicKey") for a in actions):
            out.append(s)
    return out


def test_the_stage_has_one_p256_signing_key(template: Any) -> None:
    (key,) = _signing_keys(template).values()
    assert key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    assert key["Properties"].get("EnableKeyRotation") in (None, False)  # asymmetric keys do not rotate


def test_only_the_signing_functions_may_sign_and_only_with_the_current_key(template: Any) -> None:
    (key_id,) = _signing_keys(template)
    signers = {*MANIFEST_SIGNERS, AUDIT_CHECKPOINTS}
    for spec in SPECS:
        statements = _kms_statements(template, spec.name)
        if spec.name in signers:
            (sign,) = statements
            assert (sign["Action"], sign["Resource"]) == ("kms:Sign", {"Fn::GetAtt": [key_id, "Arn"]}), spec.name
        elif spec.name == Function.PUBLIC.value:
            (read,) = statements
            assert read["Action"] == "kms:GetPublicKey"
            assert read["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        else:
            assert statements == [], spec.name


def test_rotation_adds_a_key_the_old_one_stays_listed_and_only_the_new_one_signs(tmp_path: Path) -> None:
    context = stage_context()
    context["stages"]["dev"]["signing_keys"] = ["2026-12-01", "2027-03-01"]
    template = synth("dev", tmp_path, context)
    keys = _signing_keys(template)
    old = next(k for k in keys if "20261201" in k)
    new = next(k for k in keys if "20270301" in k)
    (sign,) = _kms_statements(template, Function.MEMBERS.value)
    assert sign["Resource"] == {"Fn::GetAtt": [new, "Arn"]}
    (read,) = _kms_statements(template, Function.PUBLIC.value)
    assert read["Resource"] == [{"Fn::GetAtt": [old, "Arn"]}, {"Fn::GetAtt": [new, "Arn"]}]


@pytest.mark.parametrize("bad", [[], ["2026-12"], ["2027-01-01", "2026-12-01"], ["2026-12-01", "2026-12-01"]])
def test_signing_keys_must_be_dates_oldest_first(bad: list[str]) -> None:
    from infra.config import ConfigError, load_stage

    context = stage_context()
    context["stages"]["dev"]["signing_keys"] = bad
    with pytest.raises(ConfigError, match="signing_keys"):
        load_stage(context, "dev")
