"""Authentication: who is calling.

``sigv4`` checks AWS Signature Version 4 requests (Authorization header or presigned
query) exactly as IAM and STS do; ``secret_box`` keeps the secret access keys that SigV4
needs encrypted at rest. Principal resolution and password hashing live beside them.
"""
