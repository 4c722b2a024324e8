"""HR collectors (BambooHR, CSV/JSON exports); importing this package registers `hr_system` and `hr.employees`."""

from __future__ import annotations

from collectors.hr import employees, targets

__all__ = ["employees", "targets"]
