"""engagekit: an open, serverless customer engagement platform that speaks Braze's REST API.

The package under ``shared/`` is the Lambda layer every function uses: domain logic, data access,
the Liquid dialect and the channel adapters. Handlers live in ``functions/``; the manifest, the CDK
app and the local runtime live in ``infra/``.
"""

__version__ = "0.1.0"
