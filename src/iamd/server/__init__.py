"""Process start-up: settings, data directory, database and migrations, the fronts
(HTTP and git over SSH) and the background workers, wired once and stopped cleanly.

`iamd serve` (`iamd.cli`) calls `startup.serve`; nothing below this package starts a
process, binds a port or reads a setting.
"""
