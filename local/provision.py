"""Create, in moto, the resources the CDK stack defines, from the same shared definitions.

Used by the local stack (``make run``) and by every integration test, so a test exercises the
table keys, GSIs, bucket settings and user pool that production has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from docuserve.custody.signing import DEFAULT_SIGNING_KEYS, KEY_SPEC, KEY_USAGE, signing_keys_setting
from docuserve.limits import Limits
from docuserve.schema import (
    ADMINS_GROUP,
    CLIENT_AUTH_FLOWS,
    CLIENT_READ_ATTRIBUTES,
    CLIENT_WRITE_ATTRIBUTES,
    DOCUMENTS_PREFIX,
    ID_TOKEN_HOURS,
    PASSWORD_POLICY,
    REFRESH_TOKEN_DAYS,
    TABLE,
    bucket_cors_rules,
)
from docuserve.settings import SIGNING_KEYS, UPLOAD_JOBS_QUEUE_URL, function_environment

REGION = "us-east-1"
UPLOAD_EVENTS_MAX_RECEIVES = 5
LOCAL_MAIL_FROM = "no-reply@docuserve.local"
SCAN_RESULT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"


@dataclass(frozen=True)
class Resources:
    region: str
    table_name: str
    bucket_name: str
    kms_key_arn: str
    user_pool_id: str
    user_pool_client_id: str
    events_queue_url: str
    events_dead_letter_queue_url: str = ""
    jobs_queue_url: str = ""
    jobs_dead_letter_queue_url: str = ""
    # Malware scanning: the stand-in scanner's own feed of object-created events (never in AWS,
    # where GuardDuty reads the bucket), and the queue the EventBridge scan-result rule fills.
    scanner_queue_url: str = ""
    scan_results_queue_url: str = ""
    scan_results_dead_letter_queue_url: str = ""
    mail_from: str = ""
    mail_configuration_set: str = ""
    # The manifest-signing keys, (key_id, created_at) oldest first (docuserve.custody.signing).
    signing_keys: tuple[tuple[str, str], ...] = ()

    def function_environment(self, *, web_origin: str, limits: Limits | None = None) -> dict[str, str]:
        """The environment variables the stack gives every function (see ``infra/functions.py``)."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **function_environment(
                stage="local",
                table_name=self.table_name,
                bucket_name=self.bucket_name,
                kms_key_arn=self.kms_key_arn,
                user_pool_id=self.user_pool_id,
                user_pool_client_id=self.user_pool_client_id,
                web_origin=web_origin,
                cors_origins=web_origin,
                limits=limits or Limits(),
                malware_scanning=True,
                mail_from=self.mail_from,
                mail_configuration_set=self.mail_configuration_set,
            ),
            # The stack gives it to the functions that queue upload jobs (infra/events.py).
            UPLOAD_JOBS_QUEUE_URL: self.jobs_queue_url,
            # The stack gives it to the functions that sign or list keys (infra/functions.py).
            SIGNING_KEYS: signing_keys_setting(list(self.signing_keys)),
        }


def provision(
    *,
    endpoint_url: str | None = None,
    region: str = REGION,
    web_origins: list[str] | None = None,
    prefix: str = "docuserve-local",
) -> Resources:
    """Create key, bucket, table, user pool and the object-created queue; return their names."""
    session = boto3.session.Session(region_name=region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    kms = client("kms")
    key_arn = kms.create_key(Description=f"{prefix} documents key")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key_arn)
    signing_keys = tuple(
        (
            kms.create_key(Description=f"{prefix} signing key {created}", KeySpec=KEY_SPEC, KeyUsage=KEY_USAGE)[
                "KeyMetadata"
            ]["KeyId"],
            f"{created}T00:00:00Z",
        )
        for created in DEFAULT_SIGNING_KEYS
    )

    bucket = f"{prefix}-documents"
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    if web_origins:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": bucket_cors_rules(web_origins)})

    table = f"{prefix}-table"
    ddb = client("dynamodb")
    ddb.create_table(**TABLE.create_table_kwargs(table))
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute}
    )

    sqs = client("sqs")
    # As infra/events.py: a message that fails processing 5 times moves to the dead-letter queue.
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-object-created-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(UPLOAD_EVENTS_MAX_RECEIVES)}
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-object-created", Attributes={"RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The stand-in scanner (local/scanner.py) reads the same object-created feed, as GuardDuty's
    # plan does in AWS; its results go through EventBridge like GuardDuty's.
    scanner_url = sqs.create_queue(QueueName=f"{prefix}-scanner")["QueueUrl"]
    scanner_arn = sqs.get_queue_attributes(QueueUrl=scanner_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": DOCUMENTS_PREFIX}]}},
                }
                for arn in (queue_arn, scanner_arn)
            ]
        },
    )
    # As infra/scanning.py: the scan-result rule on the default bus feeds a queue (with a DLQ) that
    # the upload-processing function consumes.
    results_dlq_url = sqs.create_queue(QueueName=f"{prefix}-scan-results-dlq")["QueueUrl"]
    results_dlq_arn = sqs.get_queue_attributes(QueueUrl=results_dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    results_redrive = {"deadLetterTargetArn": results_dlq_arn, "maxReceiveCount": str(UPLOAD_EVENTS_MAX_RECEIVES)}
    results_url = sqs.create_queue(
        QueueName=f"{prefix}-scan-results", Attributes={"RedrivePolicy": json.dumps(results_redrive)}
    )["QueueUrl"]
    results_arn = sqs.get_queue_attributes(QueueUrl=results_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = client("events")
    rule = f"{prefix}-scan-results"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.guardduty"],
                "detail-type": [SCAN_RESULT_DETAIL_TYPE],
                "detail": {"s3ObjectDetails": {"bucketName": [bucket]}},
            }
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "scan-results", "Arn": results_arn}])

    # SES: moto sends only from a verified identity; the configuration set is the stage's.
    client("ses").verify_email_identity(EmailAddress=LOCAL_MAIL_FROM)
    configuration_set = f"{prefix}-mail"
    client("sesv2").create_configuration_set(ConfigurationSetName=configuration_set)

    # As infra/events.py: upload jobs (multipart completion, full hashing), with their own DLQ.
    jobs_dlq_url = sqs.create_queue(QueueName=f"{prefix}-upload-jobs-dlq")["QueueUrl"]
    jobs_dlq_arn = sqs.get_queue_attributes(QueueUrl=jobs_dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    jobs_redrive = {"deadLetterTargetArn": jobs_dlq_arn, "maxReceiveCount": str(UPLOAD_EVENTS_MAX_RECEIVES)}
    jobs_url = sqs.create_queue(
        QueueName=f"{prefix}-upload-jobs", Attributes={"RedrivePolicy": json.dumps(jobs_redrive)}
    )["QueueUrl"]

    cognito = client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=f"{prefix}-users",
        Policies={"PasswordPolicy": PASSWORD_POLICY.as_cognito()},
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        MfaConfiguration="OFF",
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
    )["UserPool"]["Id"]
    cognito.create_group(GroupName=ADMINS_GROUP, UserPoolId=pool_id)
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=list(CLIENT_AUTH_FLOWS),
        PreventUserExistenceErrors="ENABLED",
        IdTokenValidity=ID_TOKEN_HOURS,
        AccessTokenValidity=ID_TOKEN_HOURS,
        RefreshTokenValidity=REFRESH_TOKEN_DAYS,
        TokenValidityUnits={"IdToken": "hours", "AccessToken": "hours", "RefreshToken": "days"},
        ReadAttributes=list(CLIENT_READ_ATTRIBUTES),
        WriteAttributes=list(CLIENT_WRITE_ATTRIBUTES),
    )["UserPoolClient"]["ClientId"]

    return Resources(
        region=region,
        table_name=table,
        bucket_name=bucket,
        kms_key_arn=key_arn,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        events_queue_url=queue_url,
        events_dead_letter_queue_url=dlq_url,
        jobs_queue_url=jobs_url,
        jobs_dead_letter_queue_url=jobs_dlq_url,
        scanner_queue_url=scanner_url,
        scan_results_queue_url=results_url,
        scan_results_dead_letter_queue_url=results_dlq_url,
        mail_from=LOCAL_MAIL_FROM,
        mail_configuration_set=configuration_set,
        signing_keys=signing_keys,
    )


def describe(resources: Resources) -> str:
    return json.dumps(resources.__dict__, indent=2)
