"""Running the real `annexa` console script, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ANNEXA = str(Path(sys.executable).with_name("annexa"))


def annexa(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
    full_env.update(env or {})
    return subprocess.run(
        [ANNEXA, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, check=False
    )


def annexa_json(*args: str, **kwargs: Any) -> Any:
    proc = annexa(*args, "--json", **kwargs)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)
