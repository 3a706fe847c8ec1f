"""Statistical acceptance of every arrival process, trace replay, and bad input.

Tolerances: each statistic is computed on one seeded realisation (deterministic in CI) and must
fall inside the Monte-Carlo 95% band of load-and-batching.md §2.5 widened to about 4-5 standard
errors, so a change of numpy's generator streams would not flake them either.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst

from pytest_gpuslo import arrivals as A
from pytest_gpuslo.arrivals import Trace, describe, processes
from pytest_gpuslo.arrivals import trace as trace_mod
from pytest_gpuslo.errors import InvalidArgument


def rng(seed: int = 12345) -> np.random.Generator:
    return A.make_rngs(seed)["arrivals"]


def gaps_s(proc: object, n: int = 10_000, seed: int = 12345) -> np.ndarray:
    s = proc.schedule(n=n, rng=rng(seed)) / 1e9  # type: ignore[attr-defined]
    return np.diff(np.concatenate([[0.0], s]))


def idc(times_s: np.ndarray, w: float) -> float:
    nb = int(times_s[-1] // w)
    c = np.histogram(times_s, bins=nb, range=(0.0, nb * w))[0]
    return float(c.var(ddof=1) / c.mean())


def test_gamma_cv_mean_and_ks() -> None:
    """cv=2: sample CV within [1.90, 2.10] (SE ~0.03), mean rate within 5%, KS against Gamma."""
    g = gaps_s(A.Gamma(100, cv=2.0))
    k = 0.25

    assert 1.90 < g.std(ddof=1) / g.mean() < 2.10
    assert 1 / g.mean() == pytest.approx(100, rel=0.05)
    assert sst.kstest(g, sst.gamma(k, scale=1 / (100 * k)).cdf).pvalue > 0.001


def test_gamma_shape_equals_cv_form() -> None:
    """shape = 1/cv**2 gives the same process."""
    assert A.Gamma(10, shape=4.0).k == A.Gamma(10, cv=0.5).k


def test_poisson_ks_and_dispersion() -> None:
    """Exponential gaps (KS) and IDC ~ 1 at 0.1 s windows (band [0.917, 1.104])."""
    g = gaps_s(A.Poisson(100))
    t = np.cumsum(g)

    assert sst.kstest(g, sst.expon(scale=0.01).cdf).pvalue > 0.001
    assert 0.85 < idc(t, 0.1) < 1.15


def test_mmpp_rate_and_dispersion_curve_match_closed_form() -> None:
    """lambda=(20, 200)/s, sojourns (2, 0.5) s over 2000 s: rate and IDC(w) at three windows."""
    proc = A.MMPP2(56.0, peak_to_mean=200 / 56.0, burst_s=0.5, calm_s=2.0)
    t = proc.schedule(duration_s=2000.0, rng=rng()) / 1e9

    assert proc.calm_rate_hz == pytest.approx(20.0)
    assert t.size / 2000.0 == pytest.approx(56.0, rel=0.06)
    for w, band in ((0.1, 0.05), (1.0, 0.1), (10.0, 0.35)):
        assert idc(t, w) == pytest.approx(proc.idc(w), rel=band)


def test_onoff_interarrival_scv_matches_closed_form() -> None:
    """IPP: SCV = 1 + 2 lambda_on r_on / (r_on + r_off)^2 (26.6 for the §2.5 parameters)."""
    proc = A.OnOff(20.0, burst_s=0.2, calm_s=0.8)
    g = np.diff(proc.schedule(duration_s=2000.0, rng=rng()) / 1e9)
    r_on, r_off = 1 / 0.2, 1 / 0.8
    scv = 1 + 2 * proc.burst_rate_hz * r_on / (r_on + r_off) ** 2

    assert scv == pytest.approx(26.6, rel=0.01)
    assert (g.var() / g.mean() ** 2) == pytest.approx(scv, rel=0.1)


def test_pareto_is_the_true_pareto() -> None:
    """Hill tail index ~ alpha (band [1.38, 1.63]), KS against scipy's Pareto I, mean gap ~ 1/rate."""
    proc = A.Pareto(100, alpha=1.5)
    g = gaps_s(proc)
    xs = np.sort(g)[::-1]
    k = int(0.05 * xs.size)
    hill = 1 / np.mean(np.log(xs[:k] / xs[k]))

    assert 1.30 < hill < 1.70
    assert sst.kstest(g, sst.pareto(b=1.5, scale=proc.xm).cdf).pvalue > 0.001
    assert g.min() >= proc.xm


@pytest.mark.parametrize(("alpha", "cap_s", "infinite"), [(1.1, 0.05, False), (3.0, 0.0101, False),
                                                       (0.8, 1.0, True), (1.0, 0.1, True)])
def test_a_capped_pareto_still_offers_its_rate(alpha: float, cap_s: float, infinite: bool) -> None:
    """review44: truncating gaps at cap_s raised the realised rate (1,252/s for rate_hz=200); the
    scale is now the one whose capped gaps average 1/rate_hz: the capped mean, computed in closed
    form, is 1/rate_hz, and 200,000 gaps average it within 2%."""
    proc = A.Pareto(100, alpha=alpha, cap_s=cap_s, allow_infinite_mean=infinite)
    assert processes._capped_pareto_mean(proc.xm, alpha, cap_s) == pytest.approx(0.01, rel=1e-6)
    g = np.diff(proc.schedule(n=200_000, rng=np.random.default_rng(7))) / 1e9
    assert g.max() <= cap_s + 1e-9
    assert g.mean() == pytest.approx(0.01, rel=0.02)


def test_a_cap_at_or_below_the_mean_gap_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"cap_s=0.001 is not above the mean gap 1/rate_hz = 0.005 s"):
        A.Pareto(200, alpha=1.1, cap_s=0.001)


def test_diurnal_counts_follow_the_rate_function() -> None:
    """Chi-square of 5 s bins against the integral of the rate (df=120, band [93.5, 148.9])."""
    proc = A.Diurnal(50, amplitude=0.8, period_s=60.0)
    t = proc.schedule(duration_s=600.0, rng=rng()) / 1e9
    edges = np.arange(0, 605, 5.0)
    counts = np.histogram(t, bins=edges)[0]
    grid = np.linspace(0, 600, 600_001)
    lam = proc.rate_at(grid)
    expected = np.array([np.trapezoid(lam[(grid >= a) & (grid <= b)], grid[(grid >= a) & (grid <= b)])
                         for a, b in zip(edges[:-1], edges[1:])])
    chi2 = float(((counts - expected) ** 2 / expected).sum())

    assert 80 < chi2 < 170


def test_ramp_time_rescaling_gives_exponential_increments() -> None:
    """Lambda(t_i) - Lambda(t_{i-1}) must be Exp(1) (KS), and counts follow the ramp."""
    proc = A.Ramp([(0, 100), (10, 900), (20, 500)])
    t = proc.schedule(duration_s=20.0, rng=rng()) / 1e9
    big = np.array([proc.cumulative(x) for x in t])

    assert sst.kstest(np.diff(big), "expon").pvalue > 0.001
    assert t.size == pytest.approx(proc.cumulative(20.0), rel=0.05)
    assert proc.mean_rate_hz == pytest.approx((100 + 900) / 2 * 10 / 20 + (900 + 500) / 2 * 10 / 20)


def test_superpose_adds_rates() -> None:
    """Two tenants: the merged rate is the sum."""
    proc = A.parse("superpose(parts=[poisson(rate_hz=60), gamma(rate_hz=40, cv=3)])", rate_hz=100)
    t = proc.schedule(duration_s=200.0, rng=rng()) / 1e9  # type: ignore[union-attr]

    assert t.size / 200.0 == pytest.approx(100, rel=0.08)


@pytest.mark.parametrize("text", ["onoff(burst_s=0.2, calm_s=0.6)", "mmpp2(peak_to_mean=4, burst_s=0.3, calm_s=1)",
                                  "superpose(parts=[onoff(rate_hz=100, burst_s=0.2, calm_s=0.6), poisson(rate_hz=50)])"])
def test_a_schedule_of_n_requests_is_the_process_own_first_n(text: str) -> None:
    """The rate of the first n arrivals is that of the process, not of its fast draws.

    Drawing on a guessed horizon and again when too few fitted kept only draws that came fast:
    onoff's 1,050 requests at 150/s offered a median 165/s and never its slow fifth (review46's
    schedules, 149-419/s).  Compared with the first n of long draws by duration (KS, 400 each)."""
    proc = A.parse(text, rate_hz=150)
    n = 1_050
    by_n = [n / (proc.schedule(n=n, rng=rng(s))[-1] / 1e9) for s in range(400)]  # type: ignore[union-attr]
    by_time = [n / (proc.schedule(duration_s=120.0, rng=rng(10_000 + s))[n - 1] / 1e9)  # type: ignore[union-attr]
               for s in range(400)]

    assert sst.ks_2samp(by_n, by_time).pvalue > 0.001


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["poisson", "constant", "gamma(cv=2.5)", "mmpp2", "onoff", "pareto(alpha=1.8)",
                             "diurnal(period_s=5)", "superpose(parts=[onoff(rate_hz=300), poisson(rate_hz=200)])"]),
       n=st.integers(0, 3000), duration=st.floats(0.0, 5.0), seed=st.integers(0, 2**32 - 1))
def test_schedules_are_sorted_exact_and_inside_the_horizon(name: str, n: int, duration: float, seed: int) -> None:
    """Every process: n-mode gives exactly n sorted offsets; horizon mode stays in [0, duration)."""
    proc = A.parse(name, rate_hz=500.0)
    by_n = proc.schedule(n=n, rng=rng(seed))  # type: ignore[union-attr]
    by_t = proc.schedule(duration_s=duration, rng=rng(seed))  # type: ignore[union-attr]

    assert by_n.size == n and by_n.dtype == np.int64
    assert np.all(np.diff(by_n) >= 0) and np.all(np.diff(by_t) >= 0)
    assert by_t.size == 0 or (by_t.min() >= 0 and by_t.max() < duration * 1e9 + 1)


def test_trace_round_trip_is_exact(tmp_path: Path) -> None:
    """Timestamps in ms replay to the nanosecond at their own rate; rescaling divides the gaps."""
    ts = np.cumsum(np.random.default_rng(3).exponential(7.0, 500)).round(3)
    f = tmp_path / "t.csv"
    f.write_text("arrival_ms\n" + "\n".join(f"{x:.3f}" for x in ts))
    native = Trace(str(f), unit="ms", loop=False)
    fast = Trace(str(f), unit="ms", rate_hz=2 * native.native_rate_hz, loop=False)

    assert np.array_equal(native.schedule(n=500), np.rint((ts - ts[0]) * 1e6).astype(np.int64))
    assert np.allclose(fast.schedule(n=500), native.schedule(n=500) / 2, atol=1)
    assert 1000 == Trace(str(f), unit="ms").schedule(n=1000).size  # loops


def test_trace_formats_json_npy_intervals(tmp_path: Path) -> None:
    """JSON object with a unit, .npy arrays and inter-arrival files give the same schedule."""
    gaps = [0.01, 0.02, 0.005, 0.03]
    (tmp_path / "a.json").write_text(json.dumps({"intervals": [g * 1000 for g in gaps], "unit": "ms"}))
    np.save(tmp_path / "b.npy", np.concatenate([[0.0], np.cumsum(gaps)]))  # 4 gaps: 5 arrivals
    (tmp_path / "c.txt").write_text("\n".join(str(g * 1e6) for g in gaps))
    a = Trace(str(tmp_path / "a.json")).schedule(n=5)
    b = Trace(str(tmp_path / "b.npy")).schedule(n=5)
    c = Trace(str(tmp_path / "c.txt"), kind="intervals", unit="us").schedule(n=5)

    # the first arrival at 0 (review128 N7: at the first gap, and the rate counted one fewer)
    assert np.array_equal(a, b) and np.allclose(c, b, atol=2) and a[0] == 0
    assert Trace(str(tmp_path / "a.json")).native_rate_hz == pytest.approx(4 / 0.065)


@pytest.mark.parametrize(
    ("content", "kw", "fragment"),
    [
        ("", {}, "holds no values"),
        ("1\n3\n2\n", {}, "line 3: timestamps go backwards"),
        ("1\n-2\n", {"kind": "intervals"}, "line 2: value -2.0 is negative"),
        ("1\nnan\n", {}, "line 2: value nan is not finite"),
        ("1\nabc\n", {}, "line 2: 'abc' is not a number"),
        ("1\n2\n", {"unit": "fortnights"}, "unit 'fortnights' is unknown"),
        ("5\n", {}, "spans no time"),
    ],
    ids=["empty", "unsorted", "negative", "nan", "non-numeric", "unit", "single"],
)
def test_bad_traces_name_the_file_the_line_and_the_fix(tmp_path: Path, content: str, kw: dict, fragment: str) -> None:
    """Each problem is refused with where and how to fix it."""
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(InvalidArgument) as info:
        Trace(str(f), **kw)

    assert str(f) in str(info.value) and fragment in str(info.value)
    assert ";" in str(info.value)  # a fix follows


def test_too_large_trace_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A size limit protects the schedule builder."""
    from pytest_gpuslo import limits

    f = tmp_path / "big.csv"
    f.write_text("\n".join(str(i) for i in range(100)))
    monkeypatch.setattr(limits, "MAX_TRACE_VALUES", 10)
    with pytest.raises(InvalidArgument, match="holds 100 values, over 10"):
        Trace(str(f))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("gamma(cv=0)", "cv=0 must be a finite number > 0"),
        ("gamma", "give exactly one of cv"),
        ("pareto(alpha=1.0)", "alpha=1.0 has no finite mean gap"),
        ("mmpp2(peak_to_mean=9, burst_s=0.5, calm_s=2)", "it can be at most 5 here"),
        ("diurnal(amplitude=1.5)", "amplitude=1.5 must lie in [0, 1)"),
        ("ramp(points=[(1, 5)])", "must start at t_s=0"),
        ("superpose(parts=[])", "non-empty list of processes"),
        ("poisson(rate_hz=0)", "rate_hz=0 must be > 0"),
    ],
)
def test_impossible_parameters_are_refused_with_the_allowed_range(text: str, fragment: str) -> None:
    """Values out of range name the value and the range."""
    with pytest.raises(InvalidArgument) as info:
        A.parse(text, rate_hz=None if "rate_hz" in text else 10.0)

    assert fragment in str(info.value)


def test_self_rated_processes_must_agree_with_the_marker() -> None:
    """A ramp whose mean is 500/s under rate_hz=200 says which rate to set."""
    with pytest.raises(InvalidArgument, match="set rate_hz=500"):
        A.parse("ramp(points=[(0, 0), (10, 1000)])", rate_hz=200)


def test_describe_recognises_poisson_and_bursts(tmp_path: Path) -> None:
    """describe fits the closest process and suggests a marker."""
    calm = A.Poisson(100).schedule(duration_s=300, rng=rng(1)) / 1e9
    bursty = A.MMPP2(100, peak_to_mean=4, burst_s=2.0, calm_s=8.0).schedule(duration_s=600, rng=rng(2)) / 1e9
    np.save(tmp_path / "calm.npy", calm)
    np.save(tmp_path / "bursty.npy", bursty)
    d_calm, d_bursty = describe(str(tmp_path / "calm.npy")), describe(str(tmp_path / "bursty.npy"))

    assert d_calm["closest"].startswith("poisson(") and d_calm["rate_hz"] == pytest.approx(100, rel=0.05)
    assert d_bursty["closest"].startswith("mmpp2(") and d_bursty["bursts"]
    assert "@pytest.mark.slo(rate_hz=" in d_bursty["marker"]


def test_describe_fits_an_even_trace_as_constant(tmp_path: Path) -> None:
    """review135: evenly spaced stamps were fitted as gamma(cv=2.37e-13); a marker pasted from it
    drew a near-degenerate gamma where ``constant`` is what the trace is."""
    np.save(tmp_path / "even.npy", A.Constant(200).schedule(n=3000) / 1e9)
    d = describe(str(tmp_path / "even.npy"))

    assert d["closest"] == "constant(rate_hz=200)"
    assert 'arrivals="constant(rate_hz=200)"' in d["marker"]


def test_describe_counts_no_bursts_in_the_rounding_of_whole_second_stamps(tmp_path: Path) -> None:
    """review135: Poisson counts at whole seconds (400/s) read "14 bursts": windows of 100 mean gaps
    (0.25 s) alternate between a second's stamp and none; the windows are whole steps now."""
    counts = rng(1).poisson(400, 40)
    np.save(tmp_path / "rounded.npy", np.repeat(np.arange(40.0), counts))
    d = describe(str(tmp_path / "rounded.npy"))

    assert d["rounded"] is not None and d["bursts"] == []


def test_describe_finds_short_bursts_and_tells_on_off_from_heavy_tails(tmp_path: Path) -> None:
    """review138 F3: 0.25-s bursts at 700/s every 2 s over 100/s read "5 bursts" and
    mmpp2(peak_to_mean=2.12, burst_s=0.555): one 100-gap window (0.55 s) diluted them.  review136
    N4: an on-off trace, whose top gaps are its calm spells, read pareto(alpha=1.05).  A power tail
    reads alike from its top 5% and 1% of gaps; an on-off trace's does not, nor a gamma's."""
    r = rng(3)
    t, out = 0.0, []
    while t < 24.0:
        t += r.exponential(1 / (700 if t % 2.0 < 0.25 else 100))
        out.append(t)
    np.save(tmp_path / "short.npy", np.array(out))
    short = describe(str(tmp_path / "short.npy"))
    assert len(short["bursts"]) == 12 and short["closest"].startswith("mmpp2(")
    fitted = A.parse(short["closest"])
    assert 0.2 <= fitted.burst_s <= 0.35 and 1.4 <= fitted.calm_s <= 2.1  # type: ignore[attr-defined]
    assert 3.0 <= fitted.peak_to_mean <= 4.5  # type: ignore[attr-defined]  # 3.9 in the trace

    def closest(name: str, process: object, seed: int) -> str:
        np.save(tmp_path / f"{name}.npy", process.schedule(n=20_000, rng=rng(seed)) / 1e9)  # type: ignore[attr-defined]
        return str(describe(str(tmp_path / f"{name}.npy"))["closest"])

    for seed in (0, 1):
        assert closest("onoff", A.OnOff(300, burst_s=0.1, calm_s=2.0), seed).startswith("mmpp2(")
        assert closest("pareto", A.Pareto(300, alpha=1.2), seed).startswith("pareto(")
        assert closest("gamma", A.Gamma(300, cv=3.0), seed).startswith("gamma(")
        assert closest("poisson", A.Poisson(300), seed).startswith("poisson(")


def test_a_trace_rounded_in_part_is_said_to_be(tmp_path: Path) -> None:
    """review139 F9: whole-second stamps for the first 10 s of a 300/s trace and fine ones after
    read as 10 bursts and gamma(cv=12.3), with no rounding warning, and replayed 300 requests at
    once each second.  Any tenth of it rounded is said, and nothing is fitted."""
    r = np.random.default_rng(1)
    coarse = np.floor(np.cumsum(r.exponential(1 / 300, 3000)))
    fine = 10 + np.cumsum(r.exponential(1 / 300, 3000))
    times = np.concatenate([coarse[coarse < 10], fine[fine < 20]])
    np.save(tmp_path / "half.npy", times)
    d = describe(str(tmp_path / "half.npy"))
    assert d["rounded"] is not None and d["rounded"].startswith("from 0 s to 9 s, 100% of its arrivals share ")
    assert d["rounded"].endswith("(its stamps step by 1 s there): the stamps are rounded there") and d["closest"] == ""
    assert trace_mod.rounded(fine[fine < 20]) is None  # the fine half alone: no rounding

    # review140 N1, N2: a floored stretch across two tenths was missed, and one at the edge of a
    # tenth read a fine gap as its step; and no false alarm on a burst, or on fine stamps
    t = np.cumsum(r.exponential(1 / 100, 4000))
    t[1600:2200] = np.floor(t[1600:2200])
    mid = trace_mod.rounded(np.sort(t) - t.min())
    assert mid is not None and "(its stamps step by 1 s there)" in mid
    steady = np.arange(4000) * 0.002
    assert trace_mod.rounded(np.sort(np.concatenate([steady, np.full(500, 4.0)]))) is None
    assert trace_mod.rounded(np.round(np.cumsum(r.exponential(1 / 300, 20_000)), 3)) is None  # ms at 300/s


def test_describe_of_a_short_trace_fits_no_pareto_and_says_it_is_a_rough_guess(tmp_path: Path) -> None:
    """review139 F8: 300 arrivals of gamma(cv=3) read pareto in 8 of 8 seeds, and 300 of an on-off
    process (one burst) read poisson at 5x the mean rate, with no word.  Under 2,000 gaps the tail
    check cannot tell a power law: no Pareto, and a caveat."""
    for seed in range(4):
        np.save(tmp_path / "g.npy", A.Gamma(200, cv=3.0).schedule(n=300, rng=rng(seed)) / 1e9)
        d = describe(str(tmp_path / "g.npy"))
        assert d["closest"].startswith("gamma(")
        assert d["caveat"].startswith("300 arrivals are few to tell Poisson, gamma, Pareto and bursts apart")
    np.save(tmp_path / "long.npy", A.Pareto(200, alpha=1.3).schedule(n=5000, rng=rng(1)) / 1e9)
    long = describe(str(tmp_path / "long.npy"))
    assert long["closest"].startswith("pareto(") and "few" not in long["caveat"]


def test_describe_warns_where_the_closest_process_misses_the_trace_s_dispersion(tmp_path: Path) -> None:
    """review139 F4: a steady 2-ms trace with one burst of 500 fitted gamma(cv=0.354), whose counts
    vary 600x less, with no word; review139 F5: two arrivals suggested gamma(cv=nan), which does not
    parse.  A fit far from the trace's index of dispersion says to replay the trace."""
    steady = np.arange(4000) * 0.002
    np.save(tmp_path / "burst.npy", np.sort(np.concatenate([steady, np.full(500, 4.0)])))
    burst = describe(str(tmp_path / "burst.npy"))
    assert burst["closest"].startswith("gamma(") and "x less than the trace's" in burst["caveat"]
    assert burst["caveat"].startswith("the closest process fits poorly: counts drawn from it vary ")
    assert burst["caveat"].endswith("replay the trace itself")
    np.save(tmp_path / "calm.npy", A.Poisson(300).schedule(n=20_000, rng=rng(4)) / 1e9)
    assert describe(str(tmp_path / "calm.npy"))["caveat"] == ""
    # review140 N4: the same burst on the last stamp was invisible (the part window at the end is
    # left out): windows are laid from the end too
    poisson = A.Poisson(200).schedule(n=4000, rng=rng(5)) / 1e9
    np.save(tmp_path / "end.npy", np.concatenate([poisson, np.full(560, poisson[-1])]))
    end = describe(str(tmp_path / "end.npy"))
    assert end["bursts"] and end["bursts"][-1][1] == pytest.approx(poisson[-1] - poisson[0])
    assert "x less than" in end["caveat"]
    # a closest process out of its own range is no fit to paste: gamma(cv=79.2) is refused past cv=20
    sparse = A.OnOff(300, burst_s=0.5, calm_s=10.0).schedule(n=20_000, rng=np.random.default_rng(1)) / 1e9
    np.save(tmp_path / "sparse.npy", sparse - sparse[0])
    wide = describe(str(tmp_path / "sparse.npy"))
    assert wide["closest"] == "" and wide["unfitted"].startswith("the closest process's parameters are out of its "
                                                                 "range: cv=79.2 is burstier than cv=20")
    np.save(tmp_path / "two.npy", np.array([0.0, 5.0]))
    two = describe(str(tmp_path / "two.npy"))
    assert two["closest"] == "" and two["unfitted"] == "too few gaps to fit a process"
    assert two["marker"] == "@pytest.mark.slo(rate_hz=0.2, ...)"


def test_a_capped_pareto_in_a_marker_is_checked_at_the_marker_s_rate() -> None:
    """review45: the marker was checked with the process built at 1/s, so cap_s=0.05 read "not above
    the mean gap 1/rate_hz = 1 s" although at rate_hz=200 the gap is 5 ms; at that rate a cap of
    1 ms is what must be refused, and it is, at collection."""
    from pytest_gpuslo.spec import validate_marker

    ok = validate_marker((), {"arrivals": "pareto(alpha=1.5, cap_s=0.05)", "p95_ms": 30, "rate_hz": 200}, "t")
    assert ok["arrivals"] == "pareto(alpha=1.5, cap_s=0.05)"
    with pytest.raises(InvalidArgument, match=r"cap_s=0.001 is not above the mean gap 1/rate_hz = 0.005 s"):
        validate_marker((), {"arrivals": "pareto(cap_s=0.001)", "p95_ms": 30, "rate_hz": 200}, "t")
    assert A.parse("pareto(alpha=1.5, cap_s=0.05)") is None  # no rate anywhere yet: checked later


@pytest.mark.parametrize("given", ["gamma(cv=1e308)", "gamma(cv=21)", "gamma(shape=1e-9)"])
def test_a_gamma_past_cv_20_is_refused_at_the_marker(given: str) -> None:
    """review95 #5: cv=1e308 passed the marker check, then read "fix the process's schedule/_draw"."""
    from pytest_gpuslo.spec import validate_marker

    with pytest.raises(InvalidArgument, match=r"is burstier than cv=20 .*give cv <= 20, or bursts of a set shape"):
        validate_marker((), {"arrivals": given, "rate_hz": 100}, "t")
    assert validate_marker((), {"arrivals": "gamma(cv=20)", "rate_hz": 100}, "t")["arrivals"] == "gamma(cv=20)"


@pytest.mark.parametrize(("given", "says"), [
    ("gamma(cv=1e-300)", "gamma: cv=1e-300 is smoother than cv=1e-06 (shape 1e+12); for evenly spaced arrivals use "
                         "constant."),
    ("gamma(shape=1e300)", "gamma: shape=1e+300 is smoother than cv=1e-06"),
    ("onoff(burst_s=1e-300, calm_s=1e300)", "onoff: burst_s=1e-300 is a time span in seconds, which must lie between "
                                           "1e-06 (a microsecond) and 86400 (a day)."),
    ("mmpp2(burst_s=1, calm_s=1e6)", "mmpp2: calm_s=1000000.0 is a time span in seconds"),
    ("onoff(burst_s=0.001, calm_s=0.004)", "onoff: a burst and a calm spell (burst_s + calm_s) of 0.005 s is shorter "
                                           "than the mean gap between requests (1/rate_hz = 0.01 s), so it shapes no "
                                           "burst; make it at least 0.01 s, or use poisson."),
    ("diurnal(period_s=1e-300)", "diurnal: period_s=1e-300 is a time span in seconds"),
    ("diurnal(period_s=0.005)", "diurnal: a period (period_s) of 0.005 s is shorter than the mean gap"),
    ("gamma(cv=3, cv=4)", "cannot parse 'gamma(cv=3, cv=4)': cv is given twice; give each argument once."),
    ("trace()", "trace needs path=... (docs/arrivals.md says what each process takes)."),
    ("ramp()", "ramp needs points=..."),
    # review200 F3/F4
    (r"trace(path='tr.csv\x00x')", "trace: path='tr.csv\\x00x' is not a file name; give a path such as"),
    ("onoff(burst_s=0.001, calm_s=86000)", "onoff: burst_s=0.001 with calm_s=86000 packs every request into bursts "
                                           "at 8.6e+09 requests/s"),
], ids=["gamma-cv", "gamma-shape", "onoff-span", "mmpp-span", "onoff-cycle", "diurnal-span", "diurnal-cycle",
        "repeated-keyword", "trace-no-path", "ramp-no-points", "trace-nul", "onoff-burst-rate"])
def test_arrivals_the_draw_cannot_serve_are_refused_at_the_marker(given: str, says: str) -> None:
    """review197 F1-F3: these passed the marker check, then crashed or hung in the draw ("fix the
    process's schedule/_draw", a private method of a built-in process), ran with the last of two
    values given, or were refused in Python's words ("Trace.__init__() missing 1 required
    positional argument")."""
    from pytest_gpuslo.spec import validate_marker

    with pytest.raises(InvalidArgument) as raised:
        validate_marker((), {"arrivals": given, "rate_hz": 100}, "t")
    assert says in str(raised.value)


def test_a_trace_of_rounded_stamps_has_a_caution_and_so_has_a_superpose_holding_it(tmp_path: Path) -> None:
    """review129 F2: whole-second stamps replay as bursts; the marker warns of what ``caution`` says,
    for the trace alone or as a tenant of a superpose.  Millisecond stamps at 300/s are no such thing."""
    stamps = np.cumsum(np.random.default_rng(5).exponential(1 / 300, 3000))
    whole, fine = tmp_path / "whole.csv", tmp_path / "fine.csv"
    whole.write_text("t_s\n" + "".join(f"{int(t)}\n" for t in stamps))
    fine.write_text("t_ms\n" + "".join(f"{1000 * t:.0f}\n" for t in stamps))
    note = A.caution(f"trace(path='{whole}')", rate_hz=300)
    assert note is not None and note.startswith(f"trace {whole}: 99.") and "the stamps are rounded; replayed" in note
    assert A.caution(f"trace(path='{fine}')", rate_hz=300) is None
    both = A.caution(f"superpose(parts=[poisson(rate_hz=100), trace(path='{whole}', rate_hz=200)])", rate_hz=300)
    assert both == A.caution(f"trace(path='{whole}')", rate_hz=300)
    assert A.caution("poisson", rate_hz=300) is None and A.caution("nonsense(", rate_hz=300) is None


def test_a_trace_of_rounded_stamps_loops_a_step_after_its_last_stamp(tmp_path: Path) -> None:
    """review131 F4: whole-second stamps looped the next pass's first batch one mean gap (3 ms) after
    the last batch, and their rate read 315.7/s for 300/s: each stamp stands for a step."""
    stamps = np.sort(np.random.default_rng(9).uniform(0, 20, 6000))
    path = tmp_path / "k6.csv"
    path.write_text("t_s\n" + "".join(f"{int(t)}\n" for t in stamps))
    trace = Trace(str(path))
    assert trace.native_rate_hz == pytest.approx(300.0)
    at = trace.schedule(n=12_000) / 1e9
    assert np.unique(at).tolist() == pytest.approx(list(range(40)))  # one batch a second, loop or not
    fine = tmp_path / "fine.csv"
    fine.write_text("t_s\n" + "".join(f"{t:.6f}\n" for t in stamps))
    t = Trace(str(fine)).times()
    assert Trace(str(fine)).native_rate_hz == pytest.approx((t.size - 1) / t[-1])  # as before: span / (n - 1)
