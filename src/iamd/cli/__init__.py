"""The `iamd` command line."""
