"""Use cases: the IAM and STS behaviours, independent of the wire.

Services own transactions, enforce AWS's rules (quotas, conflicts, messages) and raise
errors from `iamd.errors`. They take their collaborators (database, clock, id
generator, settings) in their constructors.
"""
