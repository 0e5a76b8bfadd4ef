"""``make account-setup``: the one-time, account-wide setting a DocuServe stage relies on but never owns.

API Gateway writes execution logs through one CloudWatch Logs role per account and region
(``AWS::ApiGateway::Account``). A stage that created it would own an account-wide setting: deleting
a dev stack would then take logging away from prod in the same account. So no stage creates it
(``cloud_watch_role=False``; tests/infra checks that); this command sets it once, and leaves an
existing role alone, since other APIs in the account already log through it.

Run: ``python -m infra.account_setup`` with credentials for the target account and region.
"""

from __future__ import annotations

import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

ROLE_NAME = "DocuServeApiGatewayCloudWatchLogs"
MANAGED_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
_ATTEMPTS, _PAUSE_SECONDS = 12, 5.0
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def ensure_api_gateway_logging_role(session: boto3.Session) -> str:
    """Make sure API Gateway has a CloudWatch Logs role in this region; return what it uses now."""
    apigateway = session.client("apigateway")
    current = apigateway.get_account().get("cloudwatchRoleArn")
    iam = session.client("iam")
    if current:
        try:
            iam.get_role(RoleName=current.rsplit("/", 1)[-1])
            return str(current)  # already set, and the role is there: it serves every API in the account
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise
    try:
        role_arn = iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
        role_arn = iam.create_role(
            RoleName=ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(_TRUST),
            Description="API Gateway's account-wide CloudWatch Logs role (set once by DocuServe's make account-setup)",
        )["Role"]["Arn"]
    partition = role_arn.split(":")[1]
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=f"arn:{partition}:iam::aws:policy/{MANAGED_POLICY}")
    # A new role takes a few seconds to reach API Gateway, which refuses it until then.
    for attempt in range(_ATTEMPTS):
        try:
            apigateway.update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
            )
            break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "BadRequestException" or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(_PAUSE_SECONDS)
    return str(role_arn)


def main() -> int:
    session = boto3.Session()
    if not session.region_name:
        print("no region configured; set AWS_REGION (or AWS_DEFAULT_REGION)")
        return 1
    role = ensure_api_gateway_logging_role(session)
    print(f"API Gateway in {session.region_name} logs through {role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
