"""`[intune]`: managed devices, read with `[entra]`'s tenant and credentials.

The section only switches the system on: which tenant, how to authenticate, the Graph endpoint
and the retry bounds are `[entra]`'s, so one app registration serves both (it needs the Intune
permissions of deploy/intune/graph-permissions.json as well). Validation of this section cannot
see `[entra]`; the target resolver checks it (collectors/intune/targets.py).
"""

from __future__ import annotations

from agent.plugin import SystemSettings


class IntuneSettings(SystemSettings):
    pass
