"""The REST API, generated from the shared route table (``docuserve.routes``).

Every route but the public ones sits behind the Cognito authorizer; the stage throttles, traces
and writes JSON access logs, and ``/public/*`` gets its own tighter method throttling.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from constructs import Construct

from docuserve.routes import ROUTES
from infra.config import StageConfig
from infra.functions import Functions
from infra.nag import acknowledge

STAGE_NAME = "api"  # the URL path prefix of every route: https://{api-id}.execute-api.../api/...


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        functions: Functions,
        user_pool: cognito.IUserPool,
        allowed_origins: list[str],
    ) -> None:
        super().__init__(scope, id)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        public_throttle = apigw.MethodDeploymentOptions(
            throttling_rate_limit=config.public_throttle.rate,
            throttling_burst_limit=config.public_throttle.burst,
            # Execution logs can echo the request path, which on /public/* is a share token.
            logging_level=apigw.MethodLoggingLevel.OFF,
        )
        self.rest_api = apigw.RestApi(
            self,
            "Rest",
            rest_api_name=f"docuserve-{config.stage}",
            description="DocuServe HTTP API",
            # The role API Gateway logs with is one per account and region: a stage that owned it
            # would break every other stage's logging when destroyed. It is a one-time account
            # setup (README, `make preflight` checks it), never part of a stage.
            cloud_watch_role=False,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            default_cors_preflight_options=apigw.CorsOptions(
                # The web app's origin(s) only; the functions name the same origins on answers.
                allow_origins=allowed_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
            ),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                # No X-Ray on the stage: its traces record full request URLs, and /public/* URLs
                # carry share tokens (SPEC promise 3: never logged). Functions still trace.
                tracing_enabled=False,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=config.api_throttle.rate,
                throttling_burst_limit=config.api_throttle.burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                method_options={
                    f"/{route.path.lstrip('/')}/{route.method}": public_throttle
                    for route in ROUTES
                    if route.path.startswith("/public/")
                },
            ),
        )
        # API Gateway creates the execution-log group on first use, with no retention, outside
        # the stack. Owning it (same name, created before the stage) gives it retention and
        # removes it with a dev stage.
        execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{STAGE_NAME}",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.rest_api.deployment_stage.node.add_dependency(execution_logs)
        if not config.waf:
            acknowledge(
                self.rest_api, "AwsSolutions-APIG3", f"WAF is off on the {config.stage} stage by cdk.json; prod has it."
            )
        # Answers API Gateway gives itself (expired token 401, throttle 429, WAF 403, 5xx) must be
        # readable by the web app too, or the browser reports a network error instead. They carry
        # no data, and name only the web app's own origin.
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.rest_api.add_gateway_response(
                f"Cors{response_type.response_type}",
                type=response_type,
                response_headers={
                    "Access-Control-Allow-Origin": f"'{allowed_origins[0]}'",
                    "Vary": "'Origin'",
                },
            )
        validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool], identity_source="method.request.header.Authorization"
        )
        self.methods: dict[str, apigw.Method] = {}
        integrations: dict[str, apigw.LambdaIntegration] = {}
        for route in ROUTES:
            name = route.function.value
            # One API-wide invoke permission per function (below), not two per method: a function
            # serving 28 methods would otherwise pass Lambda's 20 KB resource-policy limit.
            integration = integrations.setdefault(
                name, apigw.LambdaIntegration(functions[name], proxy=True, scope_permission_to_method=False)
            )
            resource = self.rest_api.root.resource_for_path(route.path)
            path_params = {
                f"method.request.path.{part[1:-1]}": True
                for part in route.path.split("/")
                if part.startswith("{") and part.endswith("}")
            }
            options: dict[str, object] = {"request_validator": validator, "request_parameters": path_params or None}
            if route.public:
                options["authorization_type"] = apigw.AuthorizationType.NONE
            else:
                options["authorization_type"] = apigw.AuthorizationType.COGNITO
                options["authorizer"] = self.authorizer
            self.methods[route.key] = resource.add_method(route.method, integration, **options)  # type: ignore[arg-type]

        for route in ROUTES:
            if route.public:
                method = self.methods[route.key]
                acknowledge(method, "AwsSolutions-APIG4", "Public by design (SPEC): health, OpenAPI and partner links.")
                acknowledge(method, "AwsSolutions-COG4", "Public by design (SPEC): health, OpenAPI and partner links.")
        # CORS preflight (OPTIONS) methods answer without auth by the CORS protocol.
        for child in self.rest_api.root.node.find_all():
            if isinstance(child, apigw.Method) and child.http_method == "OPTIONS":
                acknowledge(child, "AwsSolutions-APIG4", "CORS preflight requests carry no credentials by protocol.")
                acknowledge(child, "AwsSolutions-COG4", "CORS preflight requests carry no credentials by protocol.")

    @property
    def url(self) -> str:
        return self.rest_api.url
