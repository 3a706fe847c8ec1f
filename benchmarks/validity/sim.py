"""Open-loop queue simulator and workload families for the gate's validity grid.

Latency of a request = completion - *scheduled* arrival, in scheduled order, as the plugin
charges it.  A family fixes the arrival process (replayed: every run of a replication shares one
schedule), the service distribution (new draws every run), the number of FIFO servers c and the
utilisation.  Queues are simulated by the Kiefer-Wolfowitz recursion in a tiny C helper
(``_queues.c``, compiled with gcc on first use; benchmark only, the plugin never imports it).

Units are milliseconds throughout.  Checked against M/M/1 and Erlang C by ``python -m
benchmarks.validity.sim``.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WARMUP_FRACTION = 0.05  # the plugin's default warm-up (spec.DEFAULT_WARMUP_FRACTION)


# --------------------------------------------------------------------------------------------
# the C helper
def _load() -> ctypes.CDLL:
    src = os.path.join(HERE, "_queues.c")
    with open(src, "rb") as fh:
        tag = hashlib.sha1(fh.read()).hexdigest()[:12]
    cache = os.path.join(tempfile.gettempdir(), f"gpuslo_validity_{os.getuid()}")
    os.makedirs(cache, exist_ok=True)
    lib = os.path.join(cache, f"_queues_{tag}.so")
    if not os.path.exists(lib):
        tmp = lib + f".{os.getpid()}"
        subprocess.check_call(["gcc", "-O2", "-shared", "-fPIC", "-o", tmp, src, "-lm"])
        os.replace(tmp, lib)
    so = ctypes.CDLL(lib)
    dp = ctypes.POINTER(ctypes.c_double)
    so.kw_batch.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_int, dp, ctypes.c_int64, dp, dp]
    so.thrash.argtypes = [ctypes.c_int64, ctypes.c_int, ctypes.c_double, ctypes.c_double, dp, dp, dp, dp]
    so.kw_lanes.argtypes = [ctypes.c_int64, ctypes.c_int, dp, dp, dp, dp]
    return so


_SO = _load()


def _ptr(a: np.ndarray) -> "ctypes._Pointer[ctypes.c_double]":
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def fifo(t: np.ndarray, s: np.ndarray, c: int) -> np.ndarray:
    """Sojourn times (completion - arrival) of a FIFO c-server queue.

    ``t``: arrival times, shape (n,) shared by every run, or (R, n); ``s``: service, (n,) or (R, n).
    """
    s2 = np.ascontiguousarray(np.atleast_2d(s), dtype=np.float64)
    t2 = np.ascontiguousarray(np.atleast_2d(t), dtype=np.float64)
    r, n = s2.shape
    if t2.shape[1] != n or t2.shape[0] not in (1, r):
        raise ValueError("shape mismatch")
    if c < 1 or c > 64:
        raise ValueError("1 <= c <= 64")
    out = np.empty_like(s2)
    _SO.kw_batch(r, n, c, _ptr(t2), 0 if t2.shape[0] == 1 else n, _ptr(s2), _ptr(out))
    return out if np.ndim(s) == 2 or np.ndim(t) == 2 else out[0]


def fifo_lanes(t: np.ndarray, s: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """One run of ``fifo`` that also returns the server (lane) each request ran on."""
    t1 = np.ascontiguousarray(t, dtype=np.float64)
    s1 = np.ascontiguousarray(s, dtype=np.float64)
    if t1.shape != s1.shape or not 1 <= c <= 64:
        raise ValueError("shape mismatch or c outside 1..64")
    out, lane = np.empty_like(s1), np.empty_like(s1)
    _SO.kw_lanes(s1.size, c, _ptr(t1), _ptr(s1), _ptr(out), _ptr(lane))
    return out, lane.astype(np.int32)


def thrash(t: np.ndarray, s: np.ndarray, c: int, cores: float, kappa: float,
           with_start: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sojourn times of c FIFO lanes sharing ``cores`` cores with a thrashing penalty kappa
    (and, with ``with_start``, the time each request entered a lane)."""
    t1 = np.ascontiguousarray(t, dtype=np.float64)
    s1 = np.ascontiguousarray(s, dtype=np.float64)
    out = np.empty_like(s1)
    st = np.empty_like(s1) if with_start else None
    _SO.thrash(s1.size, c, float(cores), float(kappa), _ptr(t1), _ptr(s1), _ptr(out),
               _ptr(st) if st is not None else ctypes.cast(None, ctypes.POINTER(ctypes.c_double)))
    return (out, st) if st is not None else out


def lindley_dispatch(t: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Dispatch times of a single dispatcher that spends cost[i] per request and never runs early:
    D_i = max(t_i, D_{i-1} + cost_{i-1}).  Lag = D - t >= 0."""
    return t + fifo(t, cost, 1) - cost


# --------------------------------------------------------------------------------------------
# arrival processes (absolute times, ms) and service distributions
def poisson(rng: np.random.Generator, n: int, lam: float) -> np.ndarray:
    return np.cumsum(rng.exponential(1.0 / lam, n))


def gamma_renewal(rng: np.random.Generator, n: int, lam: float, cv: float) -> np.ndarray:
    k = 1.0 / (cv * cv)
    return np.cumsum(rng.gamma(k, 1.0 / (lam * k), n))


def onoff(rng: np.random.Generator, n: int, lam: float, peak: float = 20.0, on_frac: float = 0.05,
          per_burst: float = 200.0) -> np.ndarray:
    """Two-state Markov-modulated Poisson: the on-state rate is ``peak`` x the off-state rate, on
    for ``on_frac`` of the time, ``per_burst`` arrivals per on-period on average; mean rate lam."""
    lam_off = lam / (1.0 - on_frac + peak * on_frac)
    lam_on = peak * lam_off
    t_on = per_burst / lam_on
    t_off = t_on * (1.0 - on_frac) / on_frac
    # enough periods for n arrivals with a wide margin
    cycles = int(n / (lam * (t_on + t_off)) * 1.5) + 20
    while True:
        dur = np.empty(2 * cycles)
        start_on = rng.random() < on_frac
        a = rng.exponential(t_on, cycles)
        b = rng.exponential(t_off, cycles)
        if start_on:
            dur[0::2], dur[1::2], rates = a, b, np.tile([lam_on, lam_off], cycles)
        else:
            dur[0::2], dur[1::2], rates = b, a, np.tile([lam_off, lam_on], cycles)
        cum_l = np.concatenate([[0.0], np.cumsum(dur * rates)])
        if cum_l[-1] > n * 1.05 + 50:
            break
        cycles *= 2
    cum_t = np.concatenate([[0.0], np.cumsum(dur)])
    e = np.cumsum(rng.exponential(1.0, n))
    j = np.searchsorted(cum_l, e, side="right") - 1
    return cum_t[j] + (e - cum_l[j]) / rates[j]


def batched(rng: np.random.Generator, n: int, lam: float, mean_batch: float = 8.0) -> np.ndarray:
    """Batches of geometric size (mean ``mean_batch``) at Poisson epochs; mean rate lam."""
    m = int(n / mean_batch * 1.3) + 50
    sizes = rng.geometric(1.0 / mean_batch, m)
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, rng.geometric(1.0 / mean_batch, m)])
    epochs = np.cumsum(rng.exponential(mean_batch / lam, sizes.size))
    return np.repeat(epochs, sizes)[:n]


SERVICE_MEAN = {"lognormal": 1.0, "pareto": 1.0, "bimodal": 1.95, "neardet": 1.0, "exp": 1.0}


def service(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    """Service times with the mean in SERVICE_MEAN (ms)."""
    if kind == "lognormal":  # sigma = 1, mean 1
        return rng.lognormal(-0.5, 1.0, shape)
    if kind == "pareto":  # Pareto(2.2), mean 1
        xm = 1.2 / 2.2
        return xm * (1.0 + rng.pareto(2.2, shape))
    if kind == "bimodal":  # 95% 1 ms, 5% 20 ms, 2% jitter
        base = np.where(rng.random(shape) < 0.05, 20.0, 1.0)
        return base * rng.lognormal(-0.0002, 0.02, shape)
    if kind == "neardet":  # GPU-kernel-like: lognormal jitter sigma 0.05
        return rng.lognormal(-0.00125, 0.05, shape)
    if kind == "exp":
        return rng.exponential(1.0, shape)
    raise ValueError(kind)


@dataclass(frozen=True)
class Family:
    """A workload: arrivals x service x servers x utilisation (+ drift)."""

    name: str
    arrivals: str  # poisson | onoff | gamma2 | batch
    service: str
    c: int
    rho: float
    #: service scale ramps linearly from 1 - drift to 1 + drift over the run (both runs alike).
    drift: float = 0.0
    bursty: bool = field(default=False)
    #: (share, factor): the last ``share`` of the scheduled requests' services ``factor`` times
    #: longer (a slowdown that began late in the run, and lasts).
    late: tuple[float, float] | None = None

    @property
    def lam(self) -> float:
        return self.rho * self.c / SERVICE_MEAN[self.service]

    def schedule(self, rng: np.random.Generator, n: int) -> np.ndarray:
        lam = self.lam
        if self.arrivals == "poisson":
            return poisson(rng, n, lam)
        if self.arrivals == "onoff":
            return onoff(rng, n, lam)
        if self.arrivals == "gamma2":
            return gamma_renewal(rng, n, lam, 2.0)
        if self.arrivals == "batch":
            return batched(rng, n, lam)
        raise ValueError(self.arrivals)

    def services(self, rng: np.random.Generator, runs: int, n: int) -> np.ndarray:
        s = service(rng, self.service, (runs, n))
        if self.drift:
            s *= np.linspace(1.0 - self.drift, 1.0 + self.drift, n)
        if self.late:
            s[..., n - int(self.late[0] * n):] *= self.late[1]
        return s


def F(name: str, arrivals: str, svc: str, c: int, rho: float, drift: float = 0.0,
      late: tuple[float, float] | None = None) -> Family:
    return Family(name, arrivals, svc, c, rho, drift, arrivals in ("onoff", "batch", "gamma2"), late)


#: The grid's families.  Bursty ones (on-off, batch, gamma cv=2) carry the power goal.
FAMILIES = {f.name: f for f in [
    F("poi-logn-c4-r.5", "poisson", "lognormal", 4, 0.5),
    F("poi-logn-c4-r.8", "poisson", "lognormal", 4, 0.8),
    F("poi-pareto-c4-r.9", "poisson", "pareto", 4, 0.9),
    F("poi-bimodal-c1-r.9", "poisson", "bimodal", 1, 0.9),
    F("poi-neardet-c1-r.9", "poisson", "neardet", 1, 0.9),
    F("poi-neardet-c4-r.9", "poisson", "neardet", 4, 0.9),
    F("drift-logn-c4-r.8", "poisson", "lognormal", 4, 0.8, drift=0.075),
    F("onoff-bimodal-c1-r.8", "onoff", "bimodal", 1, 0.8),
    F("onoff-pareto-c4-r.9", "onoff", "pareto", 4, 0.9),
    F("onoff-logn-c4-r.8", "onoff", "lognormal", 4, 0.8),
    F("onoff-neardet-c1-r.9", "onoff", "neardet", 1, 0.9),
    F("onoff-bimodal-c4-r.5", "onoff", "bimodal", 4, 0.5),
    F("gamma2-neardet-c1-r.7", "gamma2", "neardet", 1, 0.7),
    F("batch-bimodal-c4-r.8", "batch", "bimodal", 4, 0.8),
    F("batch-pareto-c1-r.5", "batch", "pareto", 1, 0.5),
]}


def total(n: int) -> int:
    """Scheduled requests for n measured ones (the warm-up goes first)."""
    return n + int(math.ceil(n * WARMUP_FRACTION))


def simulate(fam: Family, t: np.ndarray, rng: np.random.Generator, factors: np.ndarray,
             n: int) -> np.ndarray:
    """Latencies of len(factors) runs on schedule t (shape (runs, n): the warm-up, the first
    t.size - n requests, dropped), service scaled by factors[r] (machine noise and effect)."""
    s = fam.services(rng, len(factors), t.size) * np.asarray(factors, dtype=np.float64)[:, None]
    return fifo(t, s, fam.c)[:, t.size - n:]


def shuffled(t: np.ndarray, s: np.ndarray, c: int, n: int, p: float = 0.95) -> np.ndarray:
    """The plugin's replayed statistic (``replay.shuffled``) of runs with services ``s`` (R, t.size)
    on schedule ``t`` and ``c`` shared FIFO servers, dispatch = schedule, no hand-off, the last
    ``n`` requests measured: the same permutations, computed by the C recursion (``_check``
    compares it with the plugin's own replay).  Returns shape (R,)."""
    from pytest_gpuslo import replay

    s2 = np.atleast_2d(s)
    r, total = s2.shape
    w = total - n
    rng = np.random.default_rng(replay.SHUFFLE_SEED)
    perms = [rng.permutation(n) for _ in range(replay.SHUFFLES)]
    big = np.repeat(s2, len(perms), axis=0)
    for k, pm in enumerate(perms):
        big[k::len(perms), w:] = s2[:, w:][:, pm]
    lat = fifo(t, big, c)[:, w:]
    return run_statistics(lat, p).reshape(r, len(perms)).mean(axis=1)


def run_statistics(lat: np.ndarray, p: float) -> np.ndarray:
    """``stats.run_statistic`` of every row of ``lat`` at once (the same arithmetic, vectorised)."""
    from pytest_gpuslo import stats

    k, trim = stats.RUN_STAT_BATCHES, stats.RUN_STAT_TRIM
    m = lat.shape[1] // k
    q = np.quantile(lat[:, : m * k].reshape(lat.shape[0], k, m), p, axis=2)
    b = np.sort(np.log(np.maximum(q, np.finfo(np.float64).tiny)), axis=1)[:, trim:k - trim]
    return b.mean(axis=1)


# --------------------------------------------------------------------------------------------
def _check() -> None:
    """The simulator against M/M/1 and Erlang C (M/M/4)."""
    from scipy import stats as st

    rng = np.random.default_rng(7)
    n = 2_000_000
    for c, rho in ((1, 0.8), (4, 0.8), (4, 0.9)):
        lam, mu = rho * c, 1.0
        t = poisson(rng, n, lam)
        s = rng.exponential(1.0, n)
        soj = fifo(t, s, c)[n // 10:]
        wait = soj - s[n // 10:]
        a = lam / mu
        # Erlang C probability of waiting
        summ = sum(a ** k / math.factorial(k) for k in range(c))
        last = a ** c / math.factorial(c) / (1 - rho)
        pw = last / (summ + last)
        wq = pw / (c * mu - lam)
        print(f"M/M/{c} rho={rho}: P(wait>0) sim {np.mean(wait > 1e-6):.4f} theory {pw:.4f}; "
              f"mean wait sim {wait.mean():.4f} theory {wq:.4f}; "
              f"P(W>1) sim {np.mean(wait > 1.0):.4f} theory {pw * math.exp(-(c * mu - lam)):.4f}")
        if c == 1:
            q = np.quantile(soj, 0.95)
            print(f"   M/M/1 sojourn p95 sim {q:.4f} theory {-math.log(0.05) / (mu - lam):.4f}")
    # family sanity: realised utilisation and arrival rate
    for f in FAMILIES.values():
        t = f.schedule(rng, 200_000)
        s = f.services(rng, 1, t.size)[0]
        print(f"{f.name:<24} rate {t.size / t[-1]:.3f} (target {f.lam:.3f}) "
              f"util {s.sum() / t[-1] / f.c:.3f}")
    # the C replay of ``shuffled`` against the plugin's own (replay.shuffled) on stamps of one run
    from pytest_gpuslo import replay, stats

    for name in ("onoff-bimodal-c4-r.5", "batch-pareto-c1-r.5"):
        fam = FAMILIES[name]
        t = fam.schedule(rng, total(4000))
        s = fam.services(rng, 1, t.size)[0]
        soj, lanes = fifo_lanes(t, s, fam.c)
        ns = 1e6  # the plugin's stamps are in ns
        got = replay.shuffled(t * ns, t * ns, (t + soj - s) * ns, (t + soj) * ns, lanes, [0.95],
                              warmup=t.size - 4000)
        mine = float(shuffled(t, s, fam.c, 4000)[0])
        print(f"shuffled {name}: plugin {got and got[0.95]:.6f} C {mine:.6f}")
        assert got is not None and abs(got[0.95] - mine) < 1e-9
    lat = fifo(t, fam.services(rng, 3, t.size), fam.c)
    assert np.allclose(run_statistics(lat, 0.95), [stats.run_statistic(x, 0.95) for x in lat], rtol=0, atol=1e-12)
    del st


if __name__ == "__main__":
    _check()
    sys.exit(0)
