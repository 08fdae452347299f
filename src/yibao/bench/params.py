"""The scenarios' parameters and their validation: impossible values are refused with a
message that says what is allowed (the CLI exits 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit

SCENARIOS: Final = (
    "settle",
    "raw-commit",
    "freshness",
    "interference",
    "analytics",
    "fuzz",
    "faults",
    "review",
)
FLOWS: Final = ("outpatient", "inpatient", "pharmacy")
DEFAULT_MIX: Final = {"outpatient": 0.70, "inpatient": 0.05, "pharmacy": 0.25}
MAX_DURATION: Final = 24 * 3600.0
MAX_CONCURRENCY: Final = 2048
#: persons a settle run enrols for itself (`bench.cast`): enough that a run of ~30 s at this
#: machine's rate plays each about once
DEFAULT_PERSONS: Final = 6000
MIN_PERSONS: Final = 100
MAX_PERSONS: Final = 1_000_000


class BenchParamError(ValueError):
    """A parameter outside what the scenario allows; the message names it and the range."""


def check_scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise BenchParamError(
            f"未知的场景 '{name}' (unknown scenario; allowed: {', '.join(SCENARIOS)})"
        )
    return name


def parse_mix(text: str | None) -> dict[str, float]:
    """`outpatient=0.7,inpatient=0.05,pharmacy=0.25` → weights (need not sum to 1)."""
    if not text:
        return dict(DEFAULT_MIX)
    mix: dict[str, float] = dict.fromkeys(FLOWS, 0.0)
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in FLOWS:
            raise BenchParamError(
                f"--mix: '{part}' 格式错误 (use flow=weight with flows {', '.join(FLOWS)}, "
                "e.g. outpatient=0.7,inpatient=0.05,pharmacy=0.25)"
            )
        try:
            weight = float(value)
        except ValueError:
            raise BenchParamError(
                f"--mix: '{value}' 不是数字 (a weight must be a number ≥ 0)"
            ) from None
        if not weight >= 0:
            raise BenchParamError(f"--mix: {name} 权重须 ≥ 0 (weights must be ≥ 0), got {value}")
        mix[name] = weight
    if sum(mix.values()) <= 0:
        raise BenchParamError("--mix: 至少一个流程权重 > 0 (at least one weight must be > 0)")
    return mix


AUTH_MODES: Final = ("signature", "static")


@dataclass(frozen=True)
class LoadParams:
    """What every load-driving scenario shares."""

    url: str = "http://127.0.0.1:8000"
    duration: float = 10.0
    concurrency: int = 32
    client: str = "raw"
    #: how the driver authenticates: signature (x-tif-* headers signed per request, what real
    #: clients do) or static (x-yibao-key)
    auth: str = "signature"
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    reversal_rate: float = 0.02
    #: flows started per second over all clients; 0 = as fast as the clients go (closed loop)
    rate: float = 0.0
    ceiling_seconds: float = 3.0
    seed: int = 1
    #: persons the run enrols for itself (`bench.cast`); 0 = play the fixtures' persons
    persons: int = DEFAULT_PERSONS

    def check(self) -> LoadParams:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BenchParamError(
                f"--url: '{self.url}' 不是 http(s) 地址 (give the server under test, "
                "e.g. http://127.0.0.1:8000)"
            )
        if self.client == "raw" and parts.scheme != "http":
            raise BenchParamError("--url: raw 客户端只支持 http:// (use --client httpx for https)")
        if not 0 < self.duration <= MAX_DURATION:
            raise BenchParamError(
                f"--duration: 须在 (0, {MAX_DURATION:.0f}] 秒 (seconds, > 0), got {self.duration}"
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise BenchParamError(
                f"--concurrency: 须在 1–{MAX_CONCURRENCY} (clients), got {self.concurrency}"
            )
        if self.client not in ("raw", "httpx"):
            raise BenchParamError(f"--client: '{self.client}' (allowed: raw, httpx)")
        if self.auth not in AUTH_MODES:
            raise BenchParamError(f"--auth: '{self.auth}' (allowed: signature, static)")
        if not 0 <= self.reversal_rate <= 1:
            raise BenchParamError(
                f"--reversal-rate: 须在 [0, 1] (a share of settlements), got {self.reversal_rate}"
            )
        if not self.rate >= 0:
            raise BenchParamError(
                f"--rate: 须 ≥ 0 (flows per second; 0 = unbounded), got {self.rate}"
            )
        if not 0 <= self.ceiling_seconds <= MAX_DURATION:
            raise BenchParamError(
                f"--ceiling-seconds: 须 ≥ 0 (0 skips the driver-ceiling run), got {self.ceiling_seconds}"
            )
        if not (self.persons == 0 or MIN_PERSONS <= self.persons <= MAX_PERSONS):
            raise BenchParamError(
                f"--persons: 须为 0 或 {MIN_PERSONS}–{MAX_PERSONS} (persons the run enrols; "
                f"0 plays the fixtures' persons), got {self.persons}"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "duration_s": self.duration,
            "concurrency": self.concurrency,
            "client": self.client,
            "auth": self.auth,
            "mix": self.mix,
            "reversal_rate": self.reversal_rate,
            "rate_flows_per_s": self.rate,
            "ceiling_seconds": self.ceiling_seconds,
            "seed": self.seed,
            "persons": self.persons,
        }


def check_positive_int(
    name: str, value: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    if value < minimum or (maximum is not None and value > maximum):
        upper = f"–{maximum}" if maximum is not None else " or more"
        raise BenchParamError(f"{name}: 须为 {minimum}{upper} (got {value})")
    return value


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BenchParamError(f"{name}: 未知 '{value}' (allowed: {', '.join(allowed)})")
    return value


def check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> float:
    """`low ≤ value ≤ high` (or `low < value` with `low_open`); NaN is refused."""
    ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise BenchParamError(f"{name}: 须在 {bracket}{low:g}, {high:g}] (got {value})")
    return value


#: the freshness scenario's own settlement load when no --rate is given (flows per second)
FRESHNESS_DEFAULT_RATE: Final = 20.0


def default_rate(scenario: str, rate: float | None) -> float:
    """--rate as given; unset: 20 flows/s for freshness (it states its load), else closed loop."""
    if rate is not None:
        return rate
    return FRESHNESS_DEFAULT_RATE if scenario == "freshness" else 0.0


def check_day(name: str, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BenchParamError(
            f"{name}: 日期格式应为 yyyy-MM-dd (a date like 2024-12-30), got {text!r}"
        ) from None
