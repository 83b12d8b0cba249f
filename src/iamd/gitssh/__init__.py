"""git over SSH, as CodeCommit serves it.

The SSH user name is an SSHPublicKeyId; the client must prove it holds that Active key
of an existing user (`server.py`, resolved by `iamd.principals.ssh_logins`). The only
commands run are git's own
``git-upload-pack '/v1/repos/NAME'`` and ``git-receive-pack '/v1/repos/NAME'``
(`commands.py`), authorized as `codecommit:GitPull` and `codecommit:GitPush` on the
repository's ARN by the same policy engine as API requests, then served by the real git
programs (`sessions.py`). `server.py` runs it all on the HTTP server's event loop.
"""
