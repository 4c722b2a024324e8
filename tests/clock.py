"""A stand-in for the `time` module a product module waits with: its waits are recorded, not slept.

A test sets it in place of the module's `time` (`monkeypatch.setattr(module, "time", clock)`), so
deadlines and back-off count the waits asked for, never how fast this machine runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeTime:
    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
