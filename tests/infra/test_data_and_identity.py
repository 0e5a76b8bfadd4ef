"""SPEC security promise 7, metadata half, and the Cognito user pool."""

from __future__ import annotations

from typing import Any

from docuserve.schema import TABLE


def _table(template: Any) -> dict[str, Any]:
    (table,) = template.find_resources("AWS::DynamoDB::Table").values()
    return table  # type: ignore[no-any-return]


def test_table_is_on_demand(template: Any) -> None:
    assert _table(template)["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


def test_table_is_encrypted_with_the_customer_managed_key(template: Any) -> None:
    sse = _table(template)["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True
    assert sse["SSEType"] == "KMS"
    assert "Fn::GetAtt" in sse["KMSMasterKeyId"]


def test_table_has_point_in_time_recovery(template: Any) -> None:
    spec = _table(template)["Properties"]["PointInTimeRecoverySpecification"]
    assert spec["PointInTimeRecoveryEnabled"] is True


def test_table_keys_and_indexes_come_from_the_shared_definition(template: Any) -> None:
    props = _table(template)["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
        {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TABLE.ttl_attribute, "Enabled": True}
    deployed = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in props["GlobalSecondaryIndexes"]}
    assert deployed == {i.name: [i.partition_key, i.sort_key] for i in TABLE.indexes}


def test_table_streams_new_images_for_the_audit_materialiser(template: Any) -> None:
    assert _table(template)["Properties"]["StreamSpecification"] == {"StreamViewType": TABLE.stream_view}


def test_prod_table_is_retained_and_deletion_protected(prod: Any, dev: Any) -> None:
    assert _table(prod)["DeletionPolicy"] == "Retain"
    assert _table(prod)["Properties"]["DeletionProtectionEnabled"] is True
    assert _table(dev)["DeletionPolicy"] == "Delete"


def _pool(template: Any) -> dict[str, Any]:
    (pool,) = template.find_resources("AWS::Cognito::UserPool").values()
    return pool["Properties"]  # type: ignore[no-any-return]


def test_user_pool_has_no_self_sign_up_and_signs_in_by_email(template: Any) -> None:
    pool = _pool(template)
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]


def test_user_pool_password_policy_is_strong(template: Any) -> None:
    policy = _pool(template)["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))


def test_mfa_is_required_in_prod_and_optional_in_dev(prod: Any, dev: Any) -> None:
    assert _pool(prod)["MfaConfiguration"] == "ON"
    assert _pool(dev)["MfaConfiguration"] == "OPTIONAL"


def test_admins_group_exists(template: Any) -> None:
    template.has_resource_properties("AWS::Cognito::UserPoolGroup", {"GroupName": "admins"})


def test_web_client_allows_password_srp_and_refresh_flows_without_secret(template: Any) -> None:
    (client,) = template.find_resources("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert set(props["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert props.get("GenerateSecret", False) is False
