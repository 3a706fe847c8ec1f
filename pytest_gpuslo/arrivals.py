"""Open-loop arrival processes (layer 1: numpy only, no pytest, no GPU library).

Each process is a small frozen object with ``mean_rate_hz`` and
``schedule(n=None, duration_s=None, rng=...)`` returning sorted ``int64`` nanosecond offsets from
the run's start.  The whole schedule is generated before the run, so the dispatch loop only compares
clocks (load-and-batching.md §2.1).  A string form parses to the same objects:
``parse("poisson")``, ``parse("constant(rate_hz=100)")``.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.errors import InvalidArgument

NS_PER_S = 1_000_000_000


@runtime_checkable
class ArrivalProcess(Protocol):
    """What the runner needs from an arrival process."""

    @property
    def mean_rate_hz(self) -> float: ...

    def schedule(
        self,
        n: int | None = None,
        duration_s: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]: ...


def _check_rate(rate_hz: Any, process: str) -> float:
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)) or not np.isfinite(rate_hz):
        raise InvalidArgument(f"{process}: rate_hz={rate_hz!r} must be a finite number > 0.")
    if rate_hz <= 0:
        raise InvalidArgument(f"{process}: rate_hz={rate_hz!r} must be > 0 (requests per second).")
    return float(rate_hz)


def _check_size(n: int | None, duration_s: float | None) -> None:
    if (n is None) == (duration_s is None):
        raise InvalidArgument("schedule() needs exactly one of n (a count) or duration_s (a horizon).")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0):
        raise InvalidArgument(f"schedule(): n={n!r} must be a whole number >= 0.")
    if duration_s is not None and not (np.isfinite(duration_s) and duration_s >= 0):
        raise InvalidArgument(f"schedule(): duration_s={duration_s!r} must be a finite number >= 0.")


def to_ns(offsets_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Seconds (float) to integer nanoseconds, rounded."""
    return np.rint(np.asarray(offsets_s, dtype=np.float64) * NS_PER_S).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Constant:
    """Evenly spaced arrivals, ``1/rate_hz`` apart, the first at offset 0 (wrk2's pacing)."""

    rate_hz: float
    name: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "constant")

    @property
    def mean_rate_hz(self) -> float:
        return float(self.rate_hz)

    def schedule(
        self,
        n: int | None = None,
        duration_s: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]:
        _check_size(n, duration_s)
        period_ns = NS_PER_S / self.rate_hz
        if n is None:
            assert duration_s is not None
            n = int(np.ceil(duration_s * self.rate_hz - 1e-9))
        # Index times period, rounded once: no accumulated drift over long schedules.
        return np.rint(np.arange(n, dtype=np.float64) * period_ns).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Poisson:
    """Memoryless arrivals: exponential inter-arrivals with mean ``1/rate_hz`` (MLPerf Server)."""

    rate_hz: float
    name: ClassVar[str] = "poisson"

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "poisson")

    @property
    def mean_rate_hz(self) -> float:
        return float(self.rate_hz)

    def schedule(
        self,
        n: int | None = None,
        duration_s: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]:
        _check_size(n, duration_s)
        rng = rng if rng is not None else np.random.default_rng()
        if n is not None:
            gaps = rng.exponential(1.0 / self.rate_hz, size=int(n))
            return to_ns(np.cumsum(gaps))
        assert duration_s is not None
        # Fixed horizon: a Poisson count of sorted uniforms is exact (order-statistics property).
        count = rng.poisson(self.rate_hz * duration_s)
        return to_ns(np.sort(rng.uniform(0.0, duration_s, size=count)))


#: name -> class; the string form ``name(key=value, ...)`` builds one of these.
PROCESSES: dict[str, type] = {"constant": Constant, "poisson": Poisson}


def _parse_text(text: str) -> tuple[str, dict[str, Any]]:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InvalidArgument(
            f"cannot parse {text!r}; write a process name such as 'poisson' or a call such as "
            f"'constant(rate_hz=100)'."
        ) from None
    if isinstance(node, ast.Name):
        return node.id, {}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise InvalidArgument(f"cannot parse {text!r}: '**' is not allowed.")
            try:
                kwargs[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                raise InvalidArgument(
                    f"cannot parse {text!r}: {kw.arg}= must be a literal (number, string, list)."
                ) from None
        return node.func.id, kwargs
    raise InvalidArgument(
        f"cannot parse {text!r}; use keyword arguments only, e.g. 'constant(rate_hz=100)'."
    )


def parse(value: Any, *, rate_hz: float | None = None) -> ArrivalProcess | None:
    """Build a process from a name, a call string or an object.

    ``rate_hz`` (from the marker) fills in the rate when the string does not give one; when both
    give one they must agree.  With no rate at all the string is only checked and ``None`` is
    returned, which is how the marker is validated at collection time.
    """
    if isinstance(value, ArrivalProcess) and not isinstance(value, str):
        return value
    if not isinstance(value, str):
        raise InvalidArgument(
            f"expected a process name, a call string or an arrival-process object, "
            f"got {value!r} (type={type(value).__name__})."
        )
    name, kwargs = _parse_text(value)
    if name not in PROCESSES:
        import difflib

        close = difflib.get_close_matches(name, list(PROCESSES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidArgument(
            f"unknown arrival process {name!r}.{hint} Known: {', '.join(sorted(PROCESSES))}."
        )
    if "rate_hz" in kwargs and rate_hz is not None and float(kwargs["rate_hz"]) != float(rate_hz):
        raise InvalidArgument(
            f"{value!r} sets rate_hz={kwargs['rate_hz']!r} but the marker says rate_hz={rate_hz!r}; "
            f"give the rate in one place."
        )
    if "rate_hz" not in kwargs:
        if rate_hz is None:
            _check_kwargs(name, kwargs)
            return None
        kwargs["rate_hz"] = rate_hz
    _check_kwargs(name, kwargs)
    try:
        return PROCESSES[name](**kwargs)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise InvalidArgument(f"{name}: {exc}") from None


def _check_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    fields = [f for f in PROCESSES[name].__dataclass_fields__]  # type: ignore[attr-defined]
    for key in kwargs:
        if key not in fields:
            raise InvalidArgument(
                f"{name} takes no argument {key!r}; it takes {', '.join(fields)}."
            )


def make_rngs(seed: int, names: tuple[str, ...] = ("arrivals", "payload")) -> dict[str, np.random.Generator]:
    """One independent generator per component, so adding a component never shifts another."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {n: np.random.Generator(np.random.PCG64(c)) for n, c in zip(names, children)}


def fingerprint(schedule_ns: npt.NDArray[np.int64]) -> str:
    """A short digest of a schedule: equal digests mean a baseline and a candidate saw the same load."""
    data = np.ascontiguousarray(schedule_ns, dtype="<i8").tobytes()
    return hashlib.sha256(data).hexdigest()[:16]
