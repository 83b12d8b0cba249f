"""Test support: running real iamd servers and a throwaway PostgreSQL cluster."""
