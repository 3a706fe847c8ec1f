"""Arrival processes: exact schedules, reproducibility and the string form."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_gpuslo import arrivals
from pytest_gpuslo.errors import InvalidArgument


def test_constant_is_exact_and_drift_free() -> None:
    """Offsets are index x period, rounded once: no accumulated drift."""
    s = arrivals.Constant(3.0).schedule(n=300_001)

    assert 0 == s[0]
    assert round(300_000 * 1e9 / 3.0) == s[-1]
    assert np.all(np.diff(s) > 0)


def test_constant_duration_counts_arrivals_inside_the_horizon() -> None:
    """A 1 s horizon at 10/s holds offsets 0, 0.1, ..., 0.9."""
    assert 10 == arrivals.Constant(10).schedule(duration_s=1.0).size


def test_poisson_is_reproducible_and_sorted() -> None:
    """The same seed gives the same schedule; the fingerprint tells schedules apart."""
    a = arrivals.Poisson(100).schedule(n=1000, rng=arrivals.make_rngs(7)["arrivals"])
    b = arrivals.Poisson(100).schedule(n=1000, rng=arrivals.make_rngs(7)["arrivals"])
    c = arrivals.Poisson(100).schedule(n=1000, rng=arrivals.make_rngs(8)["arrivals"])

    assert np.array_equal(a, b)
    assert arrivals.fingerprint(a) == arrivals.fingerprint(b) != arrivals.fingerprint(c)
    assert np.all(np.diff(a) >= 0)
    assert a.dtype == np.int64


def test_poisson_rate_and_cv_within_seeded_band() -> None:
    """Rate and inter-arrival CV of 10,000 arrivals (band: load-and-batching.md §2.5, ~5 SE)."""
    s = arrivals.Poisson(100).schedule(n=10_000, rng=arrivals.make_rngs(1)["arrivals"]) / 1e9
    gaps = np.diff(s)

    assert 10_000 / s[-1] == pytest.approx(100, rel=0.05)
    assert gaps.std(ddof=1) / gaps.mean() == pytest.approx(1.0, abs=0.05)


def test_poisson_horizon_stays_inside_duration() -> None:
    """Fixed-horizon sampling: every offset lies in [0, duration)."""
    s = arrivals.Poisson(1000).schedule(duration_s=2.0, rng=np.random.default_rng(3))

    assert s.min() >= 0 and s.max() < 2e9
    assert 1800 < s.size < 2200


@pytest.mark.parametrize(
    ("text", "rate", "expected"),
    [
        ("poisson", 5.0, arrivals.Poisson(5.0)),
        ("constant(rate_hz=7)", None, arrivals.Constant(7.0)),
        ("constant(rate_hz=7)", 7.0, arrivals.Constant(7.0)),
    ],
)
def test_string_form_parses_to_objects(text: str, rate: float | None, expected: object) -> None:
    """Names and calls build the same frozen objects."""
    assert expected == arrivals.parse(text, rate_hz=rate)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("poisson(", "cannot parse"),
        ("constant(7)", "keyword arguments only"),
        ("constant(rate_hz=7)", "marker says rate_hz=8"),
        ("poisson(cv=2)", "poisson takes no argument 'cv'"),
        ("poisson(rate_hz=-1)", "rate_hz=-1 must be > 0"),
        ("poisson(rate_hz=__import__('os'))", "must be a literal"),
    ],
)
def test_string_form_errors(text: str, fragment: str) -> None:
    """Bad strings are refused with the reason, never evaluated."""
    with pytest.raises(InvalidArgument, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        arrivals.parse(text, rate_hz=8.0 if "marker" in fragment else None)


def test_schedule_needs_exactly_one_size() -> None:
    """n and duration_s are exclusive."""
    with pytest.raises(InvalidArgument, match="exactly one"):
        arrivals.Poisson(1).schedule(n=3, duration_s=1.0)


class _Given:
    """A third party's arrival process that returns whatever it is given (review34's cases)."""

    mean_rate_hz = 100.0

    def __init__(self, out: object) -> None:
        self.out = out

    def schedule(self, n: int | None = None, duration_s: float | None = None,
                 rng: np.random.Generator | None = None) -> object:
        if isinstance(self.out, Exception):
            raise self.out
        return self.out(n) if callable(self.out) else self.out


@pytest.mark.parametrize(("out", "fragment"), [
    (lambda n: np.arange(n, dtype=np.int64)[::-1] * 1000, "offsets out of order (3000 ns then 2000 ns at index 1)"),
    (lambda n: np.arange(n, dtype=np.int64) - 5, "a negative offset (-5 ns at index 0)"),
    (lambda n: np.arange(3 * n, dtype=np.int64), "12 offsets for n=4"),
    (lambda n: np.zeros(0, dtype=np.int64), "0 offsets for n=4"),
    (lambda n: np.linspace(0.0, 0.03, n), "dtype float64; it must return a 1-D array of integer"),
    (lambda n: np.full(n, np.nan), "dtype float64"),
    (lambda n: (i for i in range(n)), "returned a generator"),
    (lambda n: np.zeros((n, 2), dtype=np.int64), "shape (4, 2)"),
    (lambda n: np.arange(n, dtype=np.int64) * 2**60, "past the 86400-s horizon"),
    (RuntimeError("my bug"), "schedule() raised RuntimeError: my bug; fix the process"),
])
def test_a_plugins_process_is_checked_before_a_run(out: object, fragment: str) -> None:
    """Every schedule goes through ``drawn``: an unsorted one otherwise FAILed the code at p95 4.3 s,
    offsets near 2**62 ns slept for a century, and a list or generator ended in a TypeError."""
    with pytest.raises(InvalidArgument) as e:
        arrivals.build_schedule(_Given(out), seed=1, requests=4, duration_s=None, warmup_requests=0, warmup_s=None)
    assert fragment in str(e.value) and "_Given" in str(e.value)


def test_a_plugins_process_that_keeps_its_promises_runs_as_given() -> None:
    listed = _Given(lambda n: [0, 10, 10, 25][:n])  # a list of ints, ties allowed
    sched, warm = arrivals.build_schedule(listed, seed=1, requests=4, duration_s=None, warmup_requests=0,
                                          warmup_s=None)
    assert sched.dtype == np.int64 and sched.tolist() == [0, 10, 10, 25] and warm == 0
    late = _Given(lambda n: np.array([0, 2_000_000_000], dtype=np.int64))
    with pytest.raises(InvalidArgument, match=r"past duration_s=1"):
        arrivals.build_schedule(late, seed=1, requests=None, duration_s=1.0, warmup_requests=None, warmup_s=None)


def test_a_process_with_a_nan_mean_rate_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="mean_rate_hz=nan, which must be a finite number > 0"):
        arrivals.parse(type("NanRate", (_Given,), {"mean_rate_hz": float("nan")})(None), rate_hz=100.0)


def test_a_registered_process_used_by_name_must_offer_the_rate_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session 15's leftover: by name (``arrivals="nanrate"``) a registered process whose
    mean_rate_hz is NaN, or not the rate it was built with, was accepted.  review44: the advice
    must blame the process, not the marker ("set rate_hz=100" only moved it to 50), a part of a
    superposition is not "the marker", and a mean that is no number is the project's error."""
    from dataclasses import dataclass

    from pytest_gpuslo.arrivals import registry

    @dataclass(frozen=True)
    class Halves:
        rate_hz: float
        scale: float = 0.5

        @property
        def mean_rate_hz(self) -> float:
            return self.rate_hz * self.scale

        def schedule(self, n: int | None = None, duration_s: float | None = None,
                     rng: np.random.Generator | None = None) -> np.ndarray:
            return np.arange(n or 1, dtype=np.int64) * int(1e9 / self.rate_hz)

    monkeypatch.setitem(registry.PROCESSES, "halves", Halves)
    wrong = r"built with rate_hz=100, offers 50 requests/s on average \(its mean_rate_hz\); .* fix the process"
    with pytest.raises(InvalidArgument, match="halves, " + wrong):
        arrivals.parse("halves", rate_hz=100.0)
    assert arrivals.parse("halves") is None  # no rate yet (review45: "built with rate_hz=1" confused)
    with pytest.raises(InvalidArgument, match=r"halves\(rate_hz=100\), " + wrong) as e:
        arrivals.parse("superpose(parts=[halves(rate_hz=100), poisson(rate_hz=100)])", rate_hz=200.0)
    assert "marker" not in str(e.value)
    monkeypatch.setitem(registry.PROCESSES, "nanrate", type("NanRate", (Halves,), {"mean_rate_hz": float("nan")}))
    with pytest.raises(InvalidArgument, match="mean_rate_hz=nan, which must be a finite number > 0"):
        arrivals.parse("nanrate", rate_hz=100.0)
    monkeypatch.setitem(registry.PROCESSES, "fast", type("Fast", (Halves,), {"mean_rate_hz": "fast"}))
    with pytest.raises(InvalidArgument, match=r"its mean_rate_hz cannot be read as a number \(ValueError"):
        arrivals.parse("fast", rate_hz=100.0)
    assert arrivals.parse("halves(scale=1.0)", rate_hz=100.0) == Halves(100.0, 1.0)


@pytest.mark.parametrize(("out", "fragment"), [
    (lambda n: np.zeros(n, dtype=np.int64), "600 offsets over 0 s (all at once), while its mean_rate_hz 100"),
    (lambda n: np.arange(n, dtype=np.int64) * 1000, "600 offsets over 0.000599 s (1e+06/s)"),  # review37
    (lambda n: np.append(np.arange(n - 1, dtype=np.int64) * 10_000_000, 36_000 * 10**9),
     "600 offsets over 3.6e+04 s (0.01664/s), while its mean_rate_hz 100 implies about 5.99 s"),
])
def test_a_schedule_that_contradicts_its_mean_rate_is_refused(out: object, fragment: str) -> None:
    """review36: all at once FAILed the code at p95 180 ms; one offset an hour out of 300 at 200/s
    slept that hour (here ten hours out of 600 at 100/s: 6,000x the span its rate implies)."""
    with pytest.raises(InvalidArgument, match="must offer about the mean rate") as e:
        arrivals.build_schedule(_Given(out), seed=1, requests=600, duration_s=None, warmup_requests=0, warmup_s=None)
    assert fragment in str(e.value)


def test_only_processes_that_say_they_are_stationary_hold_a_window_to_their_rate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in stationary processes (and superposes of them) are held to their mean rate;
    shaped ones (ramp, diurnal, trace) and a user's process that does not opt in are not: only
    it knows whether it shapes its rate over time."""
    from dataclasses import dataclass

    from pytest_gpuslo.arrivals import processes, registry

    @dataclass(frozen=True)
    class Mine(processes.Process):
        rate_hz: float
        name = "mine"

        def _draw(self, n: int | None, duration_s: float | None, rng: np.random.Generator) -> np.ndarray:
            return processes.to_ns(np.arange(n or 1) / self.rate_hz)

    monkeypatch.setitem(registry.PROCESSES, "mine", Mine)
    monkeypatch.setitem(registry.PROCESSES, "steady_mine", type("SteadyMine", (Mine,), {"steady": True}))
    rate = {t: arrivals.steady_load(t, 150.0)[0] for t in (
        "poisson", "constant", "gamma(cv=3)", "pareto(alpha=1.5)", "onoff", "mmpp2",
        "superpose(parts=[poisson(rate_hz=50), onoff(rate_hz=100)])", "steady_mine",
        "diurnal", "ramp(points=[(0, 150)])", "superpose(parts=[poisson(rate_hz=50), diurnal(rate_hz=100)])",
        "trace(path='no-such-file.csv')", "mine", "nonsense")}

    assert [t for t, r in rate.items() if r == 150.0] == list(rate)[:8], rate
    # The modulation a window is weighed against: a burst and a calm spell; a superpose's slowest part.
    assert arrivals.steady_load("mmpp2(burst_s=0.5, calm_s=2)", 150.0) == (150.0, 2.5)
    assert arrivals.steady_load("superpose(parts=[onoff(rate_hz=100, burst_s=1, calm_s=2), "
                                "onoff(rate_hz=50, burst_s=0.1, calm_s=0.2)])", 150.0) == (150.0, 3.0)
    assert arrivals.steady_load("gamma(cv=3)", 150.0) == (150.0, None)
