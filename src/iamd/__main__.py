"""`python -m iamd` is the `iamd` command."""

from iamd.cli.main import main

main()
