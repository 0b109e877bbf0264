"""EM-onset alarm: a threshold or change-point rule over one monitored signal, fed one reading per check.

Rules (configurable, `AlarmConfig`):
- `threshold`: fires when the value is beyond `threshold` (above, or below with `direction: below`) for
  `patience` consecutive checks.
- `changepoint`: one-sided CUSUM (Page 1954). The first `warmup` readings set a baseline mean and standard
  deviation (floored at `min_sigma`); afterwards `S = max(0, S + z - k)` with `z` the standardized reading
  (sign-flipped for `direction: below`); it fires when `S > h`. Measured on Gaussian noise with the defaults
  (warmup 5, k = 0.5, h = 5; tests/test_persona_monitor.py): a 3-sigma step is caught in a median 2 checks,
  but ~30% of 40-check noise-only series raise a false alarm, because 5 warm-up readings estimate sigma
  poorly: raise `warmup` or `h` for noisy signals. The monitor's probe signals are deterministic (fixed
  prompts, no sampling), so their "noise" is the early training drift itself.

The detector fires at most once; its state can be rebuilt by replaying earlier readings (resumed runs).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from emscope.config import Strict


class AlarmConfig(Strict):
    """How the EM-onset alarm reads one monitor signal."""

    metric: str = "projection_shift"
    rule: Literal["threshold", "changepoint"] = "changepoint"
    direction: Literal["above", "below"] = "above"
    threshold: float | None = None
    patience: int = Field(1, ge=1)
    warmup: int = Field(5, ge=2)
    k: float = Field(0.5, ge=0)
    h: float = Field(5.0, gt=0)
    min_sigma: float = Field(1e-3, gt=0)
    stop: bool = False

    def model_post_init(self, _ctx) -> None:
        if self.rule == "threshold" and self.threshold is None:
            raise ValueError("alarm: rule 'threshold' needs a threshold value")


class OnsetDetector:
    """Stateful alarm over a stream of `(step, value)` readings; `update` returns True once, at the onset."""

    def __init__(self, cfg: AlarmConfig):
        self.cfg = cfg
        self.fired_at: int | None = None
        self._baseline: list[float] = []
        self._run = 0
        self.cusum = 0.0

    def _sign(self) -> float:
        return 1.0 if self.cfg.direction == "above" else -1.0

    def update(self, step: int, value: float | None) -> bool:
        """Feed one reading; True exactly when the alarm fires (never again afterwards). None is skipped."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or self.fired_at is not None:
            return False
        c = self.cfg
        if c.rule == "threshold":
            beyond = value >= c.threshold if c.direction == "above" else value <= c.threshold
            self._run = self._run + 1 if beyond else 0
            fire = self._run >= c.patience
        else:
            if len(self._baseline) < c.warmup:
                self._baseline.append(value)
                return False
            z = self._sign() * (value - self.mean) / self.sigma
            self.cusum = max(0.0, self.cusum + z - c.k)
            fire = self.cusum > c.h
        if fire:
            self.fired_at = step
        return fire

    @property
    def mean(self) -> float:
        """Baseline mean of the warm-up readings (change-point rule)."""
        return sum(self._baseline) / len(self._baseline) if self._baseline else 0.0

    @property
    def sigma(self) -> float:
        """Baseline standard deviation of the warm-up readings, floored at `min_sigma`."""
        n = len(self._baseline)
        if n < 2:
            return self.cfg.min_sigma
        var = sum((x - self.mean) ** 2 for x in self._baseline) / (n - 1)
        return max(math.sqrt(var), self.cfg.min_sigma)

    def state(self) -> dict:
        """What to log next to each reading."""
        out: dict = {"alarm_rule": self.cfg.rule}
        if self.cfg.rule == "changepoint":
            out["cusum"] = round(self.cusum, 6)
        return out
