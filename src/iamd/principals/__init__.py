"""Who is calling: an access key, session token or SSH key resolved into a caller.

A resolved caller carries its identity (`Caller`) and its compiled policies
(`PrincipalPolicies`), cached and dropped on every write that can change them. The
authorization step (`iamd.authz`) decides on what this package resolves; the use cases
(`iamd.services`) see only the `Caller`.
"""
