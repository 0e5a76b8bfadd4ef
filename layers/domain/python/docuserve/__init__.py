"""DocuServe domain package: models, rules and adapters shared by every Lambda function.

Shipped to Lambda as the domain layer (``layers/domain``) and installed editable for local
work and tests. Nothing in here imports CDK or the local runner.
"""
