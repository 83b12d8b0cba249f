"""Rotating access keys in an AWS shared credentials file (`iamd keys rotate`)."""
