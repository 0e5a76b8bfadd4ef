"""The scanners' acknowledgement list: every entry has a reason and matches only what it names."""

from __future__ import annotations

from tests.scanners.run import Acknowledgement, Finding, load_acknowledgements


def test_every_acknowledgement_names_a_tool_a_rule_and_a_reason() -> None:
    acks = load_acknowledgements()
    assert acks
    for ack in acks:
        assert ack.tool in {"checkov", "cfn-lint", "bandit", "pip-audit"}, ack
        assert ack.rule, ack
        assert ack.resources, ack
        assert len(ack.reason.split()) >= 8, f"say why: {ack.tool} {ack.rule}"


def test_an_acknowledgement_covers_only_its_tool_rule_and_resources() -> None:
    ack = Acknowledgement("checkov", "CKV_AWS_59", ["AWS::ApiGateway::Method.ApiResthealthGET*"], "public by design")
    health = Finding("checkov", "CKV_AWS_59", "AWS::ApiGateway::Method.ApiResthealthGETD561B020", "t", "")
    assert ack.covers(health)
    assert not ack.covers(Finding("checkov", "CKV_AWS_59", "AWS::ApiGateway::Method.ApiRestmeGET1", "t", ""))
    assert not ack.covers(Finding("checkov", "CKV_AWS_60", health.resource, "t", ""))
    assert not ack.covers(Finding("cfn-lint", "CKV_AWS_59", health.resource, "t", ""))


def test_no_acknowledgement_waves_through_a_whole_tool() -> None:
    for ack in load_acknowledgements():
        assert ack.rule != "*", ack
