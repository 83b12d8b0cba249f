"""`iamd audit`: credential hygiene findings from the credential report and policies."""
