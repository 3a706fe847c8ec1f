"""The registry of arrival processes and their string form (layer 1).

``parse`` turns the marker's ``arrivals=`` (a name such as ``"poisson"``, a call string such as
``"gamma(cv=3)"``, read with ``ast`` and never evaluated, or a process object) into a process.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from pytest_gpuslo.arrivals.processes import (
    MMPP2,
    ArrivalProcess,
    Constant,
    Diurnal,
    Gamma,
    OnOff,
    Pareto,
    Poisson,
    Ramp,
    Superpose,
)
from pytest_gpuslo.arrivals.trace import Trace
from pytest_gpuslo.errors import InvalidArgument, brief

#: The registry: name -> class; the string form ``name(key=value, ...)`` builds one of these.
#: A new process is a module (a frozen dataclass with ``mean_rate_hz`` and ``schedule``; subclass
#: ``processes.Process`` for the argument checks) plus one line here.
PROCESSES: dict[str, type] = {
    "constant": Constant,
    "poisson": Poisson,
    "gamma": Gamma,
    "mmpp2": MMPP2,
    "onoff": OnOff,
    "pareto": Pareto,
    "diurnal": Diurnal,
    "ramp": Ramp,
    "superpose": Superpose,
    "trace": Trace,
}
#: The rate a process is built at to check its other arguments when no rate is known yet.
_ANY_RATE_HZ = 1e9
#: Processes whose mean rate follows from their own arguments: the marker's rate_hz must agree.
_SELF_RATED = ("ramp", "superpose")


def _node_value(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PROCESSES:
        return parse(ast.unparse(node))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_node_value(e, text) for e in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidArgument(
            f"cannot parse {brief(text, QUOTED)}: {ast.unparse(node)} must be a literal (number, string, list) "
            f"or a process call.") from None


#: How much of an arrivals string an error quotes (review95 #4: a 1-MB one was quoted whole, twice).
QUOTED = 200
#: The longest arrivals string parsed: a process call is a line; a megabyte is no process.
MAX_TEXT = 20_000


def _parse_text(text: str) -> tuple[str, dict[str, Any]]:
    if len(text) > MAX_TEXT:
        raise InvalidArgument(f"{brief(text, QUOTED)} is {len(text):,} characters, past the {MAX_TEXT:,} of any "
                              f"process call; write a call such as 'gamma(cv=3)', or load a long schedule from "
                              f"a file with trace(path=...)")
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InvalidArgument(
            f"cannot parse {brief(text, QUOTED)}; write a process name such as 'poisson' or a call such as "
            f"'gamma(cv=3)'."
        ) from None
    if isinstance(node, ast.Name):
        return node.id, {}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise InvalidArgument(f"cannot parse {brief(text, QUOTED)}: '**' is not allowed.")
            if kw.arg in kwargs:
                # review197 F1: the last one won, silently (Python refuses the call)
                raise InvalidArgument(f"cannot parse {brief(text, QUOTED)}: {kw.arg} is given twice; give each "
                                      f"argument once.")
            kwargs[kw.arg] = _node_value(kw.value, text)
        return node.func.id, kwargs
    raise InvalidArgument(f"cannot parse {brief(text, QUOTED)}; use keyword arguments only, e.g. 'gamma(cv=3)'.")


def parse(value: Any, *, rate_hz: float | None = None) -> ArrivalProcess | None:
    """Build a process from a name, a call string or an object.

    ``rate_hz`` (from the marker) fills in the rate when the string does not give one; when both
    give one they must agree.  Processes whose mean follows from their own arguments (ramp,
    superpose) must be within 1% of it.  With no rate at all the string is only checked and
    ``None`` is returned, which is how the marker is validated at collection time.
    """
    if isinstance(value, ArrivalProcess) and not isinstance(value, str):
        _check_mean(value, rate_hz, repr(value))
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
    _check_kwargs(name, kwargs)
    if name in _SELF_RATED:
        proc = _build(name, kwargs)
        _check_mean(proc, rate_hz, value)
        return proc  # type: ignore[no-any-return]
    if "rate_hz" in kwargs and rate_hz is not None and kwargs["rate_hz"] is not None \
            and float(kwargs["rate_hz"]) != float(rate_hz):
        raise InvalidArgument(
            f"{value!r} sets rate_hz={kwargs['rate_hz']!r} but the marker says rate_hz={rate_hz!r}; "
            f"give the rate in one place."
        )
    if kwargs.get("rate_hz") is None:
        if rate_hz is None:
            # No rate yet: the other arguments are checked now, at a rate high enough for any
            # rate-bound check to pass (a pareto cap above the mean gap); the rate later.
            _build(name, {**kwargs, "rate_hz": _ANY_RATE_HZ})
            return None
        kwargs["rate_hz"] = rate_hz
    proc = _build(name, kwargs)
    _check_built(proc, float(kwargs["rate_hz"]), value)
    return proc


def steady_load(value: Any, rate_hz: float) -> tuple[float, float | None]:
    """(rate, modulation cycle in seconds or None) of a stationary process, which a run's measured
    window is held to: every long window offers the rate, and one spanning few of its cycles may
    sit in a calm or a busy spell.  (NaN, None) for ramps, diurnal cycles, traces, processes that do
    not say they are stationary, and arrivals that cannot be read here (a stored object's repr, a
    process not registered)."""
    try:
        if isinstance(value, str) and getattr(PROCESSES.get(_parse_text(value)[0]), "steady", False) is False:
            return math.nan, None  # not built: a trace would read its file
        proc = parse(value, rate_hz=rate_hz)
    except InvalidArgument:
        return math.nan, None
    if proc is None or getattr(proc, "steady", False) is not True:
        return math.nan, None
    cycle = getattr(proc, "cycle_s", None)
    return float(proc.mean_rate_hz), (float(cycle) if cycle is not None else None)


def caution(value: Any, rate_hz: float | None) -> str | None:
    """Why the marker's ``arrivals=`` may not offer the traffic it stands for, said before the run
    (a trace of rounded stamps): a process's optional ``caution`` property, None for the rest and
    for arrivals that cannot be built here (the run says why)."""
    try:
        proc = parse(value, rate_hz=rate_hz)
    except InvalidArgument:
        return None
    note = getattr(proc, "caution", None)
    return note if isinstance(note, str) and note else None


def _build(name: str, kwargs: dict[str, Any]) -> Any:
    try:
        return PROCESSES[name](**kwargs)
    except TypeError as exc:
        import inspect

        try:
            params = inspect.signature(PROCESSES[name]).parameters.values()
        except (TypeError, ValueError):
            params = None
        missing = [p.name for p in params or () if p.default is inspect.Parameter.empty
                   and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in kwargs]
        if missing:
            # review197 F2: "Trace.__init__() missing 1 required positional argument: 'path'"
            raise InvalidArgument(f"{name} needs {', '.join(f'{m}=...' for m in missing)} (docs/arrivals.md says "
                                  f"what each process takes).") from None
        raise InvalidArgument(f"{name}: {exc}") from None


def _mean_of(proc: Any, text: str) -> float:
    """The process's ``mean_rate_hz`` as a finite number > 0, else the project's error (a string
    or a missing property ended in a raw ValueError or AttributeError: review44)."""
    try:
        mean = float(proc.mean_rate_hz)
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{text}: its mean_rate_hz cannot be read as a number ({type(exc).__name__}: {exc}); an arrival "
            f"process needs a mean_rate_hz giving its mean requests per second.") from None
    if not (math.isfinite(mean) and mean > 0):  # NaN passed the comparisons (review34)
        raise InvalidArgument(
            f"{text} offers mean_rate_hz={mean!r}, which must be a finite number > 0 (requests per second); "
            f"fix the process's mean_rate_hz.")
    return mean


def _check_built(proc: Any, rate_hz: float, text: str) -> None:
    """A registered process built with ``rate_hz`` must say it offers that rate: the fault is then
    the process's, not the marker's (session 15; review44: "set rate_hz=100" moved it to 50)."""
    _check_mean(proc, rate_hz, text, built=True)


def _check_mean(proc: Any, rate_hz: float | None, text: str, *, built: bool = False) -> None:
    if rate_hz is None:
        return
    mean = _mean_of(proc, text)
    if abs(mean - rate_hz) > 0.01 * rate_hz:
        if built:
            raise InvalidArgument(
                f"{text}, built with rate_hz={rate_hz:g}, offers {mean:.6g} requests/s on average (its "
                f"mean_rate_hz); a process's mean_rate_hz must be the rate_hz it is given: fix the process.")
        raise InvalidArgument(
            f"{text} offers {mean:.6g} requests/s on average but the marker says rate_hz={rate_hz!r}; "
            f"set rate_hz={mean:.6g} (the marker's rate is the promised mean load).")


def _check_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    import inspect

    fields = list(inspect.signature(PROCESSES[name]).parameters)
    for key in kwargs:
        if key not in fields:
            raise InvalidArgument(f"{name} takes no argument {key!r}; it takes {', '.join(fields)}.")
