"""Loopback HTTP servers that speak the real formats of the services tracker talks to.

`loopback.py` is the scriptable server (`LoopbackServer`, `Reply`, `Request`); `arxiv.py` renders
arXiv's API Atom and daily-listing RSS and serves the API's paging and id lookups.
"""

from tests.servers.loopback import LoopbackServer, Reply, Request

__all__ = ["LoopbackServer", "Reply", "Request"]
