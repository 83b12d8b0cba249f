"""The HTTP front: one ASGI app on one port for every AWS protocol iamd speaks."""
