"""The server-wide /_local routes that belong to no one service: health, the clock, reachability.

server.py mounts `urls.URLS` beside each service's table; `/_local/health` needs no credentials
(`urls.UNAUTHENTICATED`), so `ensure` can tell its own server from a stranger's before it has any.
"""
