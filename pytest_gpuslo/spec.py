"""The SLO specification: what a test promises and how it is measured (layer 1, pure stdlib).

``validate_marker`` turns the raw ``@pytest.mark.slo(...)`` arguments into a checked dict, with
messages that name the argument, the value and the fix.  ``resolve`` merges the four layers of
measurement settings (default < ini < CLI < marker) and records where each field came from, so the
report can say "seed=42 (from CLI)".  Nothing here imports pytest, numpy or a GPU library.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pytest_gpuslo import backends as _backends
from pytest_gpuslo import limits
from pytest_gpuslo.errors import InvalidArgument, brief

#: Budget argument name -> the percentile it bounds, as a fraction.
PERCENTILE_ARGS: Final[dict[str, float]] = {
    "p50_ms": 0.50,
    "p90_ms": 0.90,
    "p95_ms": 0.95,
    "p99_ms": 0.99,
    "p999_ms": 0.999,
}

#: Contract arguments: only the marker sets them.
CONTRACT_ARGS: Final = ("streams", "rate_hz", "arrivals", "throughput_hz", "backend", "devices")
#: Measurement arguments: default < ini < CLI < marker.
MEASUREMENT_ARGS: Final = (
    "duration_s",
    "max_duration_s",
    "requests",
    "warmup_s",
    "warmup_requests",
    "seed",
    "timeout_s",
)
ALL_ARGS: Final = tuple(PERCENTILE_ARGS) + CONTRACT_ARGS + MEASUREMENT_ARGS



def backend_choices() -> tuple[str, ...]:
    """``auto`` and every registered backend (``backends.REGISTRY``)."""
    return (_backends.AUTO, *sorted(_backends.names()))


#: Default timeout per request when the marker gives none (seconds).
DEFAULT_TIMEOUT_S: Final = 10.0
#: A default run holds enough requests that the tightest percentile has about this many
#: exceedances: 200 / (1 - p), at least 1,000 (p95: 4,000; p99: 20,000; p99.9: 200,000).  That is
#: what a PASS needs: 8 sectioning batches of 25 exceedances each (statistics.md §2.4).
DEFAULT_EXCEEDANCES: Final = 200
DEFAULT_MIN_REQUESTS: Final = 1000
#: Default warm-up: this fraction of the measured requests, scheduled before them.
DEFAULT_WARMUP_FRACTION: Final = 0.05


#: Marker fields that shape the offered load: a budget may change between two runs compared, these not.
LOAD_FIELDS: Final = ("rate_hz", "streams", "arrivals", "requests", "duration_s", "warmup_s", "warmup_requests",
                      "seed")


def load_changes(old: Mapping[str, Any], new: Mapping[str, Any], fields: tuple[str, ...] = LOAD_FIELDS) -> tuple[str, ...]:
    """The load-shaping fields two specs (``SloSpec.as_dict`` form) disagree on, as "rate_hz 500 -> 400"."""
    def shown(v: Any) -> str:
        return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else repr(v)

    def known(v: Any) -> bool:  # an object's default repr names its address, new every run
        return not (isinstance(v, str) and re.search(r" at 0x[0-9a-fA-F]+>", v))

    return tuple(f"{k} {shown(old.get(k))} -> {shown(new.get(k))}" for k in fields
                 if old.get(k) != new.get(k) and known(old.get(k)) and known(new.get(k)))


def percentile_label(p: float) -> str:
    """``0.95 -> 'p95'``, ``0.999 -> 'p99.9'``."""
    text = f"{p * 100:.4f}".rstrip("0").rstrip(".")
    return f"p{text}"


def replays_trace(arrivals: Any) -> bool:
    """Whether arrivals replay a recorded trace: their text (``trace(...)``, or a stored ``Trace(...)``
    repr) or the process's registered name, without reading the file (numpy is not imported here)."""
    if isinstance(arrivals, str):
        return arrivals.strip().lower().startswith("trace(")
    return getattr(arrivals, "name", None) == "trace"


def seed_from_nodeid(nodeid: str) -> int:
    """A stable 32-bit seed from a test id, equal on every machine and Python version.

    ``hash()`` is salted per process, so a digest is used: a baseline recorded on main and a
    candidate on a pull request then replay the identical arrival schedule.
    """
    return int.from_bytes(hashlib.sha256(nodeid.encode("utf-8")).digest()[:4], "big")


def _did_you_mean(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """numpy's scalars (np.float32(40), np.int64(8)) and other registered numbers as Python's own:
    np.float32(40) read "must be a finite number" (review95 #7)."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


#: The smallest budget taken, in milliseconds: a microsecond.
MIN_BUDGET_MS = 1e-3


def _positive_number(name: str, value: Any, where: str, *, allow_zero: bool = False) -> Any:
    value = _plain(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1e300:
        # review95 #6: 10**400 read "checking the slo marker raised OverflowError", naming nothing
        raise InvalidArgument(f"{where}: {name} is a {len(str(abs(value)))}-digit number, past any float; "
                              f"give a realistic value, e.g. {name}=40.")
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidArgument(
            f"{where}: {name}={value!r} must be a finite number "
            f"(got {type(value).__name__}); write it as {name}=10 or {name}=2.5."
        )
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidArgument(f"{where}: {name}={value!r} must be {bound}; give a positive value.")
    return value  # as typed, so later messages echo what the user wrote


def _positive_int(name: str, value: Any, where: str, *, minimum: int = 1) -> int:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int):
        # The nearest whole number where the value is one (review65: streams=2.5 read "write it as streams=1").
        near = round(value) if isinstance(value, float) and not isinstance(value, bool) and math.isfinite(value) else None
        example = f"{name}={max(minimum, int(near))}" if near is not None else f"{name}={max(minimum, 1)}"
        raise InvalidArgument(
            f"{where}: {name}={value!r} must be a whole number "
            f"(got {type(value).__name__}); write it as {example}."
        )
    if value < minimum:
        # review114: "streams=0 must be >= 1." named no fix
        raise InvalidArgument(f"{where}: {name}={value!r} must be >= {minimum}; give {name}={minimum} or more.")
    return value


def validate_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the raw marker arguments and return them normalised.

    ``where`` names the test (its node id) for the messages.  Raises ``InvalidArgument`` on the
    first problem, naming the argument, the value and the fix.
    """
    if args:
        raise InvalidArgument(
            f"{where}: the slo marker takes keyword arguments only, got positional {args!r}; "
            f"write e.g. @pytest.mark.slo(p95_ms=40, rate_hz=200)."
        )
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name not in ALL_ARGS:
            if re.fullmatch(r"p\d+(_\d+)?_ms", name):
                # p101_ms was answered "Did you mean 'p90_ms'?" (review35): say which percentiles exist
                raise InvalidArgument(
                    f"{where}: {name}={value!r} is not a percentile the marker budgets: it takes "
                    f"{', '.join(PERCENTILE_ARGS)} (p999_ms is p99.9; a percentile lies under 100); "
                    f"give the budget under one of those names.")
            raise InvalidArgument(
                f"{where}: unknown slo argument {name!r}.{_did_you_mean(name, ALL_ARGS)} "
                f"Known arguments: {', '.join(ALL_ARGS)}."
            )
        if name in PERCENTILE_ARGS or name in ("rate_hz", "throughput_hz", "duration_s", "timeout_s",
                                               "max_duration_s"):
            out[name] = _positive_number(name, value, where)
            if name in PERCENTILE_ARGS and out[name] >= limits.MAX_HORIZON_S * 1000.0:
                # review200 F10: p95_ms=1e8 read "raise timeout_s above 100000 s" beside a 86400-s cap
                raise InvalidArgument(f"{where}: {name}={value!r} is {out[name] / 3.6e6:,.3g} hours, past the "
                                      f"{limits.MAX_HORIZON_S:g}-s horizon any request may run (limits.MAX_HORIZON_S); "
                                      f"budgets are in milliseconds: give e.g. {name}=40.")
            if name in PERCENTILE_ARGS and out[name] < MIN_BUDGET_MS:
                # review197 F10: p95_ms=1e-300 was taken and read as the code's FAIL
                raise InvalidArgument(f"{where}: {name}={value!r} is under a microsecond, which no request meets (the "
                                      f"clock's and the dispatcher's own cost alone are more); budgets are in "
                                      f"milliseconds: give e.g. {name}=40.")
        elif name == "warmup_s":
            out[name] = _positive_number(name, value, where, allow_zero=True)
        elif name in ("streams", "requests", "devices"):
            out[name] = _positive_int(name, value, where)
            if name == "streams" and value > limits.MAX_STREAMS:
                raise InvalidArgument(
                    f"{where}: streams={value!r} is over the limit of {limits.MAX_STREAMS} lanes "
                    f"(limits.MAX_STREAMS; each is a thread or a CUDA stream); give fewer.")
        elif name == "warmup_requests":
            out[name] = _positive_int(name, value, where, minimum=0)
        if name in ("requests", "warmup_requests") and value > limits.MAX_REQUESTS:
            raise InvalidArgument(
                f"{where}: {name}={_show(value)} is over the limit of {limits.MAX_REQUESTS:,} requests "
                f"(limits.MAX_REQUESTS, docs/limits.md): the run would need about "
                f"{limits.request_memory_bytes(_as_float(value)) / 1e9:.3g} GB of memory "
                f"({limits.BYTES_PER_REQUEST} bytes per request). Ask for fewer.")
        elif name == "seed":
            out[name] = _positive_int(name, value, where, minimum=0)
        elif name == "backend":
            choices = backend_choices()
            if value not in choices:
                raise InvalidArgument(
                    f"{where}: backend={value!r} is not one of {', '.join(choices)}."
                    f"{_did_you_mean(str(value), choices)}"
                )
            out[name] = value
    if "arrivals" in kwargs:
        # after the loop: checked at the marker's own rate (review45: built at a placeholder rate
        # of 1/s, a pareto cap of 50 ms read "not above the mean gap 1 s")
        out["arrivals"] = _validate_arrivals(kwargs["arrivals"], where, out.get("rate_hz"))
    _check_combinations(out, where)
    return out


def _validate_arrivals(value: Any, where: str, rate_hz: float | None = None) -> Any:
    # Imported here: arrivals needs numpy, and spec must stay importable without it.
    from pytest_gpuslo import arrivals as _arrivals

    try:
        _arrivals.parse(value, rate_hz=rate_hz)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: arrivals={brief(value, 200)}: {exc}") from None
    return value


def _check_combinations(out: dict[str, Any], where: str) -> None:
    if "duration_s" in out and "requests" in out:
        raise InvalidArgument(
            f"{where}: give duration_s or requests, not both "
            f"(got duration_s={out['duration_s']!r}, requests={out['requests']!r}); remove one."
        )
    if "max_duration_s" in out and ("duration_s" in out or "requests" in out):
        raise InvalidArgument(
            f"{where}: max_duration_s plans sequential looks at 25%, 50% and 100% of it and stops "
            f"at the first clear verdict; give it alone, without duration_s or requests.")
    if "warmup_s" in out and "warmup_requests" in out:
        raise InvalidArgument(
            f"{where}: give warmup_s or warmup_requests, not both; remove one."
        )
    budgets = [(PERCENTILE_ARGS[k], k, out[k]) for k in PERCENTILE_ARGS if k in out]
    budgets.sort()
    for (_, lo_name, lo), (_, hi_name, hi) in zip(budgets, budgets[1:]):
        if hi < lo:
            raise InvalidArgument(
                f"{where}: {hi_name}={hi!r} is below {lo_name}={lo!r}, but a higher percentile "
                f"cannot be faster than a lower one; raise {hi_name} or lower {lo_name}."
            )
    if "throughput_hz" in out and "rate_hz" in out and out["throughput_hz"] > out["rate_hz"]:
        raise InvalidArgument(
            f"{where}: throughput_hz={out['throughput_hz']!r} exceeds the offered rate "
            f"rate_hz={out['rate_hz']!r}; an open-loop run cannot complete more than it offers. "
            f"Raise rate_hz to at least throughput_hz."
        )
    if "timeout_s" in out and budgets:
        largest = max(b for _, _, b in budgets)
        if out["timeout_s"] * 1000.0 <= largest:
            raise InvalidArgument(
                f"{where}: timeout_s={out['timeout_s']!r} is not above the largest budget "
                f"({largest!r} ms); a timed-out request must count as over budget. "
                f"Raise timeout_s above {largest / 1000.0:g}."
            )


@dataclass(frozen=True, slots=True)
class SloSpec:
    """A fully resolved SLO test: contract, measurement settings and the source of each field."""

    #: percentile (fraction) -> budget in milliseconds, sorted by percentile.
    budgets_ms: dict[float, float]
    rate_hz: float
    streams: int = 1
    arrivals: Any = "poisson"
    duration_s: float | None = None
    requests: int | None = None
    warmup_s: float | None = None
    warmup_requests: int | None = None
    seed: int = 0
    timeout_s: float = DEFAULT_TIMEOUT_S
    throughput_hz: float | None = None
    backend: str = "auto"
    #: GPUs the workload needs at once (a model split over two, peer copies).
    devices: int = 1
    #: sequential looks: analyse at 25%, 50% and 100% of this horizon, alpha split over them.
    max_duration_s: float | None = None
    #: field name -> "marker", "CLI", "ini", "default" or "node id".
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def tightest_budget_ms(self) -> float | None:
        """The smallest budget: the scale against which schedule lag is judged."""
        return min(self.budgets_ms.values()) if self.budgets_ms else None

    def describe(self) -> str:
        """One line for messages: ``p95<=40ms p99<=60ms @200/s x8 streams``."""
        parts = [f"{percentile_label(p)}<={b:g}ms" for p, b in self.budgets_ms.items()]
        parts.append(f"@{self.rate_hz:g}/s {self.arrivals if isinstance(self.arrivals, str) else self.arrivals!r}")
        parts.append(f"x{self.streams} streams")
        if self.throughput_hz:
            parts.append(f">= {self.throughput_hz:g}/s done")
        return " ".join(parts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SloSpec":
        """The inverse of ``as_dict`` (a spec read back from a baseline or a report)."""
        by_label = {percentile_label(p): p for p in PERCENTILE_ARGS.values()}
        budgets = {by_label[label]: float(v) for label, v in data["budgets_ms"].items()}
        kwargs = {k: data.get(k) for k in ("duration_s", "requests", "warmup_s", "warmup_requests",
                                           "throughput_hz", "max_duration_s")}
        return cls(budgets_ms=dict(sorted(budgets.items())), rate_hz=float(data["rate_hz"]),
                   streams=int(data["streams"]), arrivals=data.get("arrivals", "poisson"),
                   seed=int(data["seed"]), timeout_s=float(data["timeout_s"]),
                   backend=str(data.get("backend", "auto")), devices=int(data.get("devices", 1)),
                   sources=dict(data.get("sources") or {}), **kwargs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for reports and baselines."""
        return {
            "budgets_ms": {percentile_label(p): b for p, b in self.budgets_ms.items()},
            "rate_hz": self.rate_hz,
            "streams": self.streams,
            "arrivals": self.arrivals if isinstance(self.arrivals, str) else repr(self.arrivals),
            "duration_s": self.duration_s,
            "requests": self.requests,
            "warmup_s": self.warmup_s,
            "warmup_requests": self.warmup_requests,
            "seed": self.seed,
            "timeout_s": self.timeout_s,
            "throughput_hz": self.throughput_hz,
            "backend": self.backend,
            "devices": self.devices,
            "max_duration_s": self.max_duration_s,
            "sources": dict(self.sources),
        }


def _show(value: Any, width: int = 40) -> str:
    """``repr(value)`` cut to ``width`` (an integer of 10,000 digits has no repr in Python 3.11+)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    return text if len(text) <= width else text[: width - 3] + "..."


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:  # an integer beyond float64
        return math.inf


def _check_size(nodeid: str, rate_hz: Any, requests: Any, duration_s: Any, warmup_requests: Any,
                warmup_s: Any, timeout_s: Any, sources: Mapping[str, str], duration_name: str = "duration_s") -> None:
    """Refuse, at collection, a schedule the run could not hold in memory or finish in a sane time
    (``limits.MAX_REQUESTS``, ``limits.MAX_HORIZON_S``): each message names the values, where they
    came from and what the run would need."""
    def given(*names: str) -> str:
        # (``duration_name``: max_duration_s stands in for duration_s, review164 F8)
        parts = [f"{duration_name if n == 'duration_s' else n}={_show(v)} ({sources.get(n, 'default')})" for n, v in
                 (("rate_hz", rate_hz), *((n, _values[n]) for n in names)) if v is not None]
        return ", ".join(parts)

    _values = {"requests": requests, "duration_s": duration_s, "warmup_requests": warmup_requests,
               "warmup_s": warmup_s}
    warm_n, warm_s = _as_float(warmup_requests or 0), _as_float(warmup_s or 0.0)
    rate = float(rate_hz)
    if not rate <= limits.MAX_RATE_HZ:
        raise InvalidArgument(
            f"{nodeid}: rate_hz={_show(rate_hz)} ({sources.get('rate_hz', 'default')}) is over the "
            f"{limits.MAX_RATE_HZ:,.0f} requests/s one dispatcher can offer (limits.MAX_RATE_HZ, docs/limits.md); "
            f"give the offered load in requests per second, e.g. rate_hz=200.")
    if requests is not None:
        total = _as_float(requests) + warm_n + warm_s * rate
        horizon = (_as_float(requests) + warm_n) / rate + warm_s
        what = given("requests", "warmup_requests", "warmup_s")
    else:
        total = (_as_float(duration_s or 0.0) + warm_s) * rate + warm_n
        horizon = _as_float(duration_s or 0.0) + warm_s + warm_n / rate
        what = given("duration_s", "warmup_requests", "warmup_s")
    # review166 F12: a too-short --gpuslo-duration asked for the marker's duration_s
    fix = {"CLI": "a --gpuslo-duration", "ini": "a gpuslo_duration_s in the ini"}.get(
        sources.get("duration_s", ""), f"a {duration_name}") if duration_name == "duration_s" else f"a {duration_name}"
    if requests is None and duration_s is not None and not _as_float(duration_s) * rate >= 1.0:
        # requests=0 is refused as a marker value; a duration that holds no request is the same
        # test of nothing, which would pass with a warning (review63).
        raise InvalidArgument(
            f"{nodeid}: {given('duration_s')} offers about {_as_float(duration_s) * rate:.3g} requests to "
            f"measure: nothing to decide on. Give {fix} of at least 1/rate_hz "
            f"({1.0 / rate:.3g} s; a few thousand requests decide a p95)"
            f"{', or requests=N in the marker' if duration_name == 'duration_s' else ''}.")
    if not total <= limits.MAX_REQUESTS:
        need = limits.request_memory_bytes(total)
        raise InvalidArgument(
            f"{nodeid}: {what} schedules about {total:.3g} requests (warm-up included), which would "
            f"need about {need / 1e9:.3g} GB of memory ({limits.BYTES_PER_REQUEST} bytes each); the "
            f"limit is {limits.MAX_REQUESTS:,} requests (limits.MAX_REQUESTS, docs/limits.md). Ask for "
            f"fewer requests or a shorter {duration_name}.")
    if not horizon <= limits.MAX_HORIZON_S:
        raise InvalidArgument(
            f"{nodeid}: {what} spans about {horizon:.3g} s, past the {limits.MAX_HORIZON_S:g}-s "
            f"horizon (limits.MAX_HORIZON_S, docs/limits.md); raise rate_hz or ask for fewer "
            f"requests or a shorter {duration_name}.")
    if not _as_float(timeout_s) <= limits.MAX_HORIZON_S:
        raise InvalidArgument(
            f"{nodeid}: timeout_s={_show(timeout_s)} ({sources.get('timeout_s', 'default')}) is past the "
            f"{limits.MAX_HORIZON_S:g}-s horizon (limits.MAX_HORIZON_S); give a timeout under it.")


def resolve(
    marker: Mapping[str, Any],
    *,
    nodeid: str,
    ini: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    given_in: str = "marker",
) -> SloSpec:
    """Merge default < ini < CLI < marker for measurement settings; contract from the marker only.

    ``marker`` is the output of ``validate_marker``.  ``ini`` and ``cli`` hold only the settings the
    user actually gave (``None`` values are ignored); ``given_in`` names the marker's layer in
    messages ("slo_run" for the fixture's arguments).  Raises ``InvalidArgument`` when the marker
    lacks what no other layer can supply (``rate_hz``).
    """
    sources: dict[str, str] = {}
    layers = [("ini", ini or {}), ("CLI", cli or {}), (given_in, marker)]

    def pick(name: str, default: Any, default_source: str = "default") -> Any:
        value, source = default, default_source
        for label, layer in layers:
            if layer.get(name) is not None:
                value, source = layer[name], label
        sources[name] = source
        return value

    if "rate_hz" not in marker:
        raise InvalidArgument(
            f"{nodeid}: {'the slo marker' if given_in == 'marker' else given_in} needs rate_hz, the offered "
            f"load in requests per second; "
            f"add e.g. rate_hz=200."
        )
    budgets = {PERCENTILE_ARGS[k]: float(marker[k]) for k in PERCENTILE_ARGS if k in marker}
    budgets = dict(sorted(budgets.items()))
    for name in CONTRACT_ARGS:
        if name in marker:
            sources[name] = given_in

    seed = pick("seed", seed_from_nodeid(nodeid), "node id")
    timeout_s = pick("timeout_s", DEFAULT_TIMEOUT_S)
    if budgets and timeout_s * 1000.0 <= max(budgets.values()):
        raise InvalidArgument(
            f"{nodeid}: timeout_s={timeout_s!r} ({sources['timeout_s']}) is not above the largest "
            f"budget ({max(budgets.values()):g} ms); raise timeout_s."
        )

    duration_s = marker.get("duration_s", marker.get("max_duration_s"))
    requests = marker.get("requests")
    if marker.get("max_duration_s") is not None:
        sources["max_duration_s"] = given_in
    if duration_s is not None:
        sources["duration_s"] = given_in
    elif requests is not None:
        sources["requests"] = given_in
    else:
        # Neither in the marker: a CLI/ini duration applies, else enough requests for the tightest
        # percentile to be decidable (statistics.md §2.4: E_min = 20 effective exceedances).
        duration_s = pick("duration_s", None)
        if duration_s is None:
            sources.pop("duration_s", None)
            p_max = max(budgets) if budgets else 0.95
            requests = max(DEFAULT_MIN_REQUESTS, math.ceil(DEFAULT_EXCEEDANCES / (1.0 - p_max)))
            sources["requests"] = "default"

    warmup_s = marker.get("warmup_s")
    warmup_requests = marker.get("warmup_requests")
    if warmup_s is None and warmup_requests is None:
        warmup_requests = pick("warmup_requests", None)
        if warmup_requests is None:
            if requests is not None:
                warmup_requests = int(math.ceil(requests * DEFAULT_WARMUP_FRACTION))
                sources["warmup_requests"] = "default"
            else:
                warmup_s = float(duration_s or 0.0) * DEFAULT_WARMUP_FRACTION
                sources["warmup_s"] = "default"
                sources.pop("warmup_requests", None)
    else:
        sources["warmup_s" if warmup_s is not None else "warmup_requests"] = given_in

    backend = marker.get("backend")
    if backend is None:
        backend = pick("backend", "auto")
    _check_size(nodeid, marker["rate_hz"], requests, duration_s, warmup_requests, warmup_s,
                timeout_s, sources,
                "max_duration_s" if marker.get("max_duration_s") is not None and "duration_s" not in marker
                else "duration_s")
    return SloSpec(
        budgets_ms=budgets,
        rate_hz=float(marker["rate_hz"]),
        streams=int(marker.get("streams", 1)),
        arrivals=marker.get("arrivals", "poisson"),
        duration_s=None if duration_s is None else float(duration_s),
        requests=None if requests is None else int(requests),
        warmup_s=None if warmup_s is None else float(warmup_s),
        warmup_requests=None if warmup_requests is None else int(warmup_requests),
        seed=int(seed),
        timeout_s=float(timeout_s),
        throughput_hz=None if marker.get("throughput_hz") is None else float(marker["throughput_hz"]),
        backend=str(backend),
        devices=int(marker.get("devices", 1)),
        max_duration_s=None if marker.get("max_duration_s") is None else float(marker["max_duration_s"]),
        sources=sources,
    )


def pass_floor(spec: SloSpec) -> str | None:
    """Why this run can never PASS its tightest budget, or None when it can.

    A PASS needs sectioning's 8 batches of 25 expected exceedances (``DEFAULT_EXCEEDANCES /
    (1 - p)`` requests: 4,000 at p95), however far under budget the run is; a marker asking for
    fewer read "needs about 4,000 requests" after every run, even 77x under budget (review78 #9).
    Said before the run, so a user does not learn it one run at a time.
    """
    if not spec.budgets_ms:
        return None
    p = max(spec.budgets_ms)
    need = math.ceil(round(DEFAULT_EXCEEDANCES / (1.0 - p), 6))  # 200 / (1 - 0.9) is 2000.0000000000005
    label = percentile_label(p)
    if spec.requests is not None:
        if spec.requests >= need:
            return None
        asked = f"requests={spec.requests} ({spec.sources.get('requests', 'default')})"
        fix = f"raise requests to {need} or more, or leave it out for the default"
    elif spec.duration_s is not None:
        n = spec.rate_hz * spec.duration_s
        if n >= need:
            return None
        name = "max_duration_s" if spec.max_duration_s is not None else "duration_s"
        asked = (f"{name}={spec.duration_s:g} ({spec.sources.get(name, 'default')}) at rate_hz="
                 f"{spec.rate_hz:g} schedules about {n:,.0f} requests, which")
        fix = f"raise {name} to {need / spec.rate_hz:.3g} s or more"
    else:
        return None
    return (f"{asked} is too few for a {label} PASS: a PASS needs at least {need:,} requests (8 "
            f"sectioning batches of 25 expected exceedances, docs/statistics.md), so this test can only "
            f"FAIL or be INCONCLUSIVE on its budget; {fix}.")
