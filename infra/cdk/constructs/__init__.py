"""One construct per capability of the manifest; :mod:`infra.cdk.stack` composes them."""
