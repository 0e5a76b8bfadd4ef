"""Adapters: the only code that touches boto3. One per AWS service, created once per process."""
