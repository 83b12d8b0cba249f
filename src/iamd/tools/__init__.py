"""Client-side tools the `iamd` command runs against any IAM endpoint (iamd or AWS)
through boto3: key rotation (`iamd keys rotate`) and the account audit (`iamd audit`).
They never open iamd's database."""
