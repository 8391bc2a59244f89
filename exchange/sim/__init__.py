"""A local OKX-compatible exchange on 127.0.0.1 (the demo's venue and every end-to-end test's).

It never imports the client: it judges requests from the raw bytes, as OKX does.
"""

from .command import serve
from .simulator import Simulator

__all__ = ["Simulator", "serve"]
