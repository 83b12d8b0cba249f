"""iamd: a self-hosted identity and access service that speaks AWS IAM, STS and SSO."""

__version__ = "0.1.0"
