"""SCIM 2.0 (RFC 7643, RFC 7644) over an Identity Center instance's identity store, as
AWS's IAM Identity Center SCIM implementation serves it: the wire shapes of users and
groups, their filters and PATCH operations, and the discovery documents. The users and
groups are the identity store's own (services/identity_store.py), so the identitystore
API and the sign-in pages see what SCIM provisioned. The HTTP side (the endpoint, the
bearer token, the error envelope) is http/scim.py.
"""
