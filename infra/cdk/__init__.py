"""The aws-cdk app of engagekit: ``python -m infra.cdk.app`` synthesizes infra/manifest.py into cdk.out/."""
