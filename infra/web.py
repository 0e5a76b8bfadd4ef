"""The web app: a private bucket behind CloudFront, and ``config.json`` written from the stack.

Built in two steps so that nothing depends on itself: the bucket and the distribution exist first
(the functions need the web origin for share links, the documents bucket needs it for CORS), and
``publish`` uploads the files and ``config.json`` once the API and the user pool exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from docuserve import web_policy
from docuserve.schema import PASSWORD_POLICY
from infra.config import StageConfig
from infra.nag import acknowledge

WEB_ROOT = Path(__file__).resolve().parents[1] / "web"

# Which requests are pages of the app (rewritten to /index.html) and which are files. local/front.py
# (is_app_page) applies the same rule; tests/infra/test_web.py runs both over one table of paths.
# App routes come first, so an id with a dot (/d/<workspace>.<document>) or a share token
# (/s/<token>) can never look like a file; then dot segments, /js/ and known file extensions are
# files; everything else is a page.
SPA_ROUTER = """\
var APP_PREFIXES = ['/s/', '/r/', '/w/', '/d/', '/admin/'];
var EXTENSIONS = ['css', 'html', 'ico', 'jpg', 'js', 'json', 'map', 'mjs', 'png', 'svg', 'txt',
  'webmanifest', 'webp', 'woff2'];

function isAppPage(uri) {
  if (uri === '/' || uri === '/admin') return true;
  for (var i = 0; i < APP_PREFIXES.length; i++) {
    if (uri.indexOf(APP_PREFIXES[i]) === 0) return true;
  }
  // Dot segments and hidden names are never pages (and the bucket holds none).
  if (uri.split('/').some(function (part) { return part.charAt(0) === '.'; })) return false;
  if (uri.indexOf('/js/') === 0) return false;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  var dot = last.lastIndexOf('.');
  return !(dot !== -1 && EXTENSIONS.indexOf(last.substring(dot + 1).toLowerCase()) !== -1);
}

function handler(event) {
  var request = event.request;
  if (isAppPage(request.uri)) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def content_security_policy(*, api_origin: str | None, region: str) -> str:
    """The app's CSP: its own scripts and styles only (no inline code), calls to the API, Cognito and S3,
    image previews from the documents bucket only, and no frames."""
    # Presigned URLs name the documents bucket in the host. The bucket's name cannot appear here:
    # its CORS rule names this distribution, so that would be a circular reference.
    documents = [f"https://*.s3.{region}.amazonaws.com", "https://*.s3.amazonaws.com"]
    connect = [*([api_origin] if api_origin else []), f"https://cognito-idp.{region}.amazonaws.com"]
    return web_policy.content_security_policy(connect=connect, documents=documents)


class Web(Construct):
    """Web app hosting: S3 (private, SSE, TLS only, access logs) behind CloudFront with OAC, HTTPS only."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, log_bucket: s3.IBucket) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)

        # Only the app's static files live here (rebuilt from the repository on every deploy); the
        # stage's retention rule applies anyway, so a retained stage keeps everything it had.
        self.bucket = s3.Bucket(
            self,
            "Files",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="web/",
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            auto_delete_objects=not config.retain_data,
        )

        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment=f"DocuServe {config.stage}: security headers of the web app",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    # Until publish() names the API, the app may call nothing but its own origin.
                    content_security_policy=content_security_policy(api_origin=None, region=stack.region),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                # Share links carry their token in the page URL: never send it to another site.
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                        override=True,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )

        router = cloudfront.Function(
            self,
            "Router",
            comment="Single-page app routing: pages, /s/{token} and /r/{token} get index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_ROUTER),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

        custom_domain = bool(config.domain_name and config.certificate_arn)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"DocuServe {config.stage} web app",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=router, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            domain_names=[config.domain_name] if custom_domain and config.domain_name else None,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if custom_domain and config.certificate_arn
            else None,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=False,
        )
        self.domain = config.domain_name if custom_domain and config.domain_name else self.distribution.domain_name
        self.origin = f"https://{self.domain}"
        """The web app's origin: share links are ``{origin}/s/{token}``."""

        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "CloudFront access logs would record /s/{token} page paths, and SPEC promises share tokens are "
            "never logged; the bucket's own access logs see only the rewritten /index.html.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Partners who receive share links can be anywhere; the organisation restricts who gets a link, "
            "not the countries it can be opened from.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves only the app's static files; every request that touches data goes to the "
            "API, which has its own throttling and (in prod) WAF.",
        )
        if not custom_domain:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose "
                "TLS policy cannot be set; configure domain_name and certificate_arn to get TLSv1.2_2021.",
            )

    def publish(self, *, api_url: str, api_origin: str, region: str, user_pool_id: str, client_id: str) -> None:
        """Upload the app and its ``config.json`` (built from the stack's values), then invalidate the cache."""
        # The API is created after the distribution (its functions need the web origin), so its
        # origin joins the CSP now, at the CloudFormation level.
        policy = self.headers.node.default_child
        assert isinstance(policy, cloudfront.CfnResponseHeadersPolicy)
        policy.add_property_override(
            "ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy",
            content_security_policy(api_origin=api_origin, region=region),
        )
        settings: dict[str, Any] = {
            "api_url": api_url,
            "region": region,
            "user_pool_id": user_pool_id,
            "user_pool_client_id": client_id,
            # The pool's password rule (infra/identity.py): the web app's hint and checks follow it.
            "password_policy": PASSWORD_POLICY.as_web_config(),
        }
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[s3deploy.Source.asset(str(WEB_ROOT)), s3deploy.Source.json_data("config.json", settings)],
            destination_bucket=self.bucket,
            prune=True,
            # Files are small and not content-hashed: browsers revalidate every time (ETag).
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
        )
        self._acknowledge_deployment_handler()

    def _acknowledge_deployment_handler(self) -> None:
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                    "CDK's BucketDeployment handler; the managed policy only writes its logs.",
                )
                # CDK writes this policy: read the asset from the bootstrap bucket, sync it into the web
                # bucket (put, delete, list), and invalidate the distribution (CloudFront grants on *).
                for finding in (
                    "Action::s3:GetObject*",
                    "Action::s3:GetBucket*",
                    "Action::s3:List*",
                    "Action::s3:DeleteObject*",
                    "Action::s3:Abort*",
                    f"Resource::<{Stack.of(self).get_logical_id(self.bucket.node.default_child)}.Arn>/*",  # type: ignore[arg-type]
                    "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                    "Resource::*",
                ):
                    acknowledge(
                        child,
                        f"AwsSolutions-IAM5[{finding}]",
                        "CDK's BucketDeployment handler syncs the web app from the CDK asset bucket into the web "
                        "bucket and invalidates the distribution; CDK writes this policy, scoped to those.",
                    )
                acknowledge(
                    child,
                    "AwsSolutions-L1",
                    "CDK's BucketDeployment handler runtime is chosen and upgraded by aws-cdk-lib.",
                )
