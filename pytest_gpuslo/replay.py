"""How this run's p-quantile bends with the machine's speed, from a replay of its own stamps.

Layer 2 (numpy only).  The stored-baseline interval (``stats.prediction_test``) needs the scale on
which a run's level moves linearly with a machine factor: ln q far from saturation, about 1/q near
it on one server, steeper on many servers, flatter on bursty arrivals (statistics.md §2, "The
scale, from a replay").  The batch shape within a run does not show it; how the queue answers a
slower machine does.  So every recorded run replays its own measured service times through its own
lanes (FIFO per lane, the lane each request ran on, the dispatch times it had) with every service
time scaled by f = e^x, x in {-2h, -h, 0, h, 2h}, fits T(x) = a + b x + c x^2 to its run
statistic (least squares: one run's statistic is made of order statistics and jumps as f moves
them; three points gave signs at random on real CPU runs), and the Box-Cox exponent on which T is
straight is lambda = -T''/T'^2 = -2c / b^2 (q^lambda is linear in ln f when T'' = -lambda T'^2).

The gap between a request's dispatch (or the end of the lane's previous request) and its start, a
launch delay or a thread's wake-up, is kept as measured: a machine factor scales the service, not
the host's hand-off.  At f = 1 the replay gives back the measured completions exactly; where it
does not (a batcher runs several requests at once on one lane, a request failed or never started),
the lanes were not FIFO servers, and no scale is claimed (``None``: the gate uses 1/q); nor where
the p95 moves less than the service does (most of it is time the replay does not scale).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import stats

#: The machine factors replayed: e^(k H), k = -2..2 (2% steps: a day's shift on a real machine).
H = 0.02
STEPS = (-2, -1, 0, 1, 2)
#: lambda is clipped to this range: beyond -3 the interval is as wide as the 1/q^3 scale already
#: makes it, and no queue on the validity grid bent the other way past +1.
LAMBDA_RANGE = (-3.0, 1.0)
#: The replay at f = 1 must give back the run statistic within this (0.5% of q_p), or the lanes
#: were not FIFO servers and the replay would model another system.
FIT_TOL = 0.005
#: A scale is claimed only where the run statistic moves at least as much as the service (dT/d ln f
#: >= 1: the queue amplifies).  Below, much of the latency is time the replay does not scale
#: (dispatch lag, a thread's wake-up), and the curvature is that assumption's (lambda = 1 - 1/w for
#: a share w of scaled time: -3 to +3 from run to run on real CPU lanes), not the queue's.  Every
#: simulated queue of the validity grid had a slope of 1.1 or more.
MIN_ELASTICITY = 1.0


Stamps = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64],
               npt.NDArray[np.float64], npt.NDArray[np.integer]]


def _stamps(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
            lane: npt.ArrayLike, warmup: int, unit: float) -> Stamps | None:
    """``_stamps_why``'s stamps alone."""
    return _stamps_why(scheduled, dispatch, start, end, lane, warmup, unit)[0]


def _stamps_why(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
                lane: npt.ArrayLike, warmup: int, unit: float) -> tuple[Stamps | None, str]:
    """A run's stamps as floats divided by ``unit``, and its lanes; None, with why, where they
    cannot be replayed: unequal lengths, too few measured requests, a request that never started
    or ended, a completion not after its scheduled arrival."""
    t, d, s, e = (np.asarray(a, dtype=np.float64) / unit for a in (scheduled, dispatch, start, end))
    ln = np.asarray(lane)
    n = t.size
    if not (d.size == s.size == e.size == ln.size == n):
        return None, "the run's stamps differ in length"
    if n - warmup < 2 * stats.RUN_STAT_BATCHES:
        return None, f"fewer than {2 * stats.RUN_STAT_BATCHES} measured requests"
    if np.any(d < 0) or np.any(s < 0) or np.any(e < s) or np.any(ln < 0):
        return None, "a request that never started or ended"
    if np.any(e[warmup:] <= t[warmup:]):
        return None, "a completion stamped before its scheduled arrival (the lanes are not FIFO servers)"
    return (t, d, s, e, ln), ""


def completions(dispatch: npt.NDArray[np.float64], start: npt.NDArray[np.float64],
                end: npt.NDArray[np.float64], lane: npt.NDArray[np.integer], f: float) -> npt.NDArray[np.float64]:
    """Completion times had every service time (end - start) been f times as long.

    Per lane, in schedule order: c_i = max(d_i, c_prev) + gap_i + f s_i, with gap_i = start_i -
    max(d_i, end_prev) >= 0 the measured hand-off.  Solved without a Python loop per request:
    c_i = W_i + max_{j <= i}(d_j - W_{j-1}), W the running sum of gap + f s on the lane.
    """
    gap = _gaps(dispatch, start, end, lane)
    return _fixed_lanes(dispatch, gap, (f * (end - start))[None, :], lane)[0]


def scale(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
          lane: npt.ArrayLike, p: float, *, warmup: int = 0) -> float | None:
    """lambda = -T''/T'^2 of this run's statistic at percentile ``p`` under a machine factor, from
    the replay (``completions``) at ``STEPS`` x ``H``; the statistic counts the requests after ``warmup`` as the gate
    does.  ``None`` when the run cannot be replayed: a request that never started or ended, too
    few requests, a replay at f = 1 that misses the measured statistic by more than ``FIT_TOL``, or
    a statistic that moves less than the service (``MIN_ELASTICITY``)."""
    stamps = _stamps(scheduled, dispatch, start, end, lane, warmup, 1.0)
    if stamps is None:
        return None
    t, d, s, e, ln = stamps
    measured = stats.run_statistic((e - t)[warmup:], p)
    xs = np.array(STEPS, dtype=np.float64) * H
    ts = []
    for x in xs:
        lat = (completions(d, s, e, ln, math.exp(x)) - t)[warmup:]
        if np.any(lat <= 0):
            return None
        ts.append(stats.run_statistic(lat, p))
    if not abs(ts[STEPS.index(0)] - measured) <= FIT_TOL:
        return None
    c2, slope, _ = np.polyfit(xs, ts, 2)
    if not slope >= MIN_ELASTICITY:
        return None
    return float(np.clip(-2.0 * c2 / slope ** 2, *LAMBDA_RANGE))


#: Service orders averaged by ``shuffled``: the assignment noise left is 1/K of one run's (an sd
#: 1/4 of it at 16); more costs replay time for little (statistics.md §2, "The replayed statistic").
SHUFFLES = 16
#: The permutations are the same for every run (common random numbers: two runs' statistics then
#: differ by their service times, not by the draws of the replay).
SHUFFLE_SEED = 20261201


def _gaps(d: npt.NDArray[np.float64], s: npt.NDArray[np.float64], e: npt.NDArray[np.float64],
          lane: npt.NDArray[np.integer]) -> npt.NDArray[np.float64]:
    """Each request's measured hand-off: its start minus the later of its dispatch and the end of
    its lane's previous request (>= 0)."""
    gap = np.empty(d.size, dtype=np.float64)
    for k in np.unique(lane):
        idx = np.flatnonzero(lane == k)
        prev = np.concatenate(([-math.inf], e[idx][:-1]))
        gap[idx] = np.maximum(0.0, s[idx] - np.maximum(d[idx], prev))
    return gap


def _fixed_lanes(d: npt.NDArray[np.float64], gap: npt.NDArray[np.float64], svc: npt.NDArray[np.float64],
                 lane: npt.NDArray[np.integer]) -> npt.NDArray[np.float64]:
    """Completions, shape (K, n), of FIFO lanes that each request is bound to (round-robin streams),
    for K service vectors ``svc`` (K, n)."""
    out = np.empty(svc.shape, dtype=np.float64)
    for k in np.unique(lane):
        idx = np.flatnonzero(lane == k)
        w = gap[idx] + svc[:, idx]
        cum = np.cumsum(w, axis=1)
        out[:, idx] = cum + np.maximum.accumulate(d[idx] - (cum - w), axis=1)
    return out


def _shared_queue(d: npt.NDArray[np.float64], gap: npt.NDArray[np.float64], svc: npt.NDArray[np.float64],
                  servers: int) -> npt.NDArray[np.float64]:
    """Completions, shape (K, n), of ``servers`` lanes sharing one FIFO queue (the first free lane
    takes the oldest request: the CPU backend), requests in dispatch order, for K service vectors."""
    kk, n = svc.shape
    order = np.argsort(d, kind="stable")
    free = np.zeros((kk, servers), dtype=np.float64)
    free[:] = -math.inf
    rows = np.arange(kk)
    out = np.empty((kk, n), dtype=np.float64)
    for i in order.tolist():
        j = free.argmin(axis=1)
        done = np.maximum(free[rows, j], d[i]) + gap[i] + svc[:, i]
        free[rows, j] = done
        out[:, i] = done
    return out


#: A run's requests that started with every lane busy, at the least, for ``full_load_services``
#: to read their service times' distribution.
FULL_LOAD_MIN = 200


def full_load_services(start: npt.ArrayLike, end: npt.ArrayLike, lanes: int) -> npt.NDArray[np.float64] | None:
    """Every service as long as it would have been with every lane busy: each service mapped to the
    same rank among the services of requests that started with every lane busy, never shorter than
    it was.  ``None`` where fewer than ``FULL_LOAD_MIN`` started so (a late, smoothed dispatch may
    never have filled the lanes: what full load does to the service is then not measured).  A rank
    map, not one factor: a rare slow path that only overlap takes (review64: 9% of overlapping
    requests 15x) moves the upper ranks alone, which a median or a p90 do not see."""
    s = np.asarray(start, dtype=np.float64)
    e = np.asarray(end, dtype=np.float64)
    svc = e - s
    full = stats.in_flight(s, e) >= lanes
    if int(full.sum()) < FULL_LOAD_MIN or not np.all(np.isfinite(svc)):
        return None
    rank = (np.argsort(np.argsort(svc, kind="stable"), kind="stable") + 0.5) / svc.size
    return np.maximum(svc, np.quantile(svc[full], rank))


def punctual_at_full_load(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike,
                          end: npt.ArrayLike, lane: npt.ArrayLike, lanes: int, *,
                          warmup: int = 0) -> npt.NDArray[np.float64] | None:
    """Latency (ms, from the schedule, the requests after ``warmup``) of host lanes sharing one FIFO
    queue (the CPU backend) had the dispatcher been punctual and every service been as long as
    with every lane busy (``full_load_services``); ``None`` where it cannot be said.

    A late dispatcher smooths the arrivals; where service grows with the requests in flight (a GIL,
    shared cores) fewer at once ran faster, which may have flattered a PASS.  Had it been punctual,
    no service could have taken longer than with every lane busy, and each request waited behind
    the same earlier ones: a PASS that holds on this holds without the lateness's help."""
    return punctual_queue(scheduled, dispatch, start, end, lane, lanes, full_load_services, warmup=warmup)


def punctual_queue(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
                   lane: npt.ArrayLike, lanes: int,
                   services: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], int],
                                      npt.NDArray[np.float64] | None], *,
                   warmup: int = 0, hand_off: bool = True) -> npt.NDArray[np.float64] | None:
    """Latency (ms, from the schedule, the requests after ``warmup``) of ``lanes`` host lanes sharing
    one FIFO queue, every request dispatched at its scheduled arrival with its measured hand-off
    (none with ``hand_off=False``) and the service ``services(start_ms, end_ms, lanes)`` gives it;
    ``None`` where the stamps cannot be replayed or ``services`` says None."""
    stamps = _stamps(scheduled, dispatch, start, end, lane, warmup, 1e6)
    if stamps is None:
        return None
    t, d, s, e, ln = stamps
    svc = services(s, e, lanes)
    if svc is None:
        return None
    gaps = _gaps(d, s, e, ln) if hand_off else np.zeros(t.size)
    done = _shared_queue(t, gaps, svc[None, :], lanes)[0]
    return done[warmup:] - t[warmup:]


#: Service times are dealt at random only where a request's own service does not depend on whether
#: it found its lane busy: a Spearman correlation of at least this (an effect size, as
#: ``stats.LOAD_DEPENDENCE_RHO``) between the two says it does.  On an H200 a spin kernel after an
#: idle stream took longer than one queued behind another, and dealing those slow services into
#: busy periods made the replayed statistic 2.7x as noisy as the latencies' own (statistics.md §2).
STATE_RHO = 0.1


def _service(start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], warmup: int) -> npt.NDArray[np.float64]:
    """Measured service times to 1e-9 of their median: equal services stay equal (a spin kernel's,
    a virtual clock's) when the stamps were scaled or summed in floating point, whose rounding
    noise would otherwise rank them, serially correlated, in the checks below."""
    svc = (end - start)[warmup:]
    mid = float(np.median(svc)) if svc.size else 0.0
    return np.round(svc / mid * 1e9) if mid > 0 else svc


def busy_at_dispatch(dispatch: npt.NDArray[np.float64] | npt.NDArray[np.int64], end: npt.NDArray[np.float64] | npt.NDArray[np.int64],
                     lane: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Was each request's lane still running the lane's previous request when it was dispatched?"""
    busy = np.zeros(np.size(dispatch), dtype=bool)
    for k in np.unique(lane):
        idx = np.flatnonzero(lane == k)
        busy[idx[1:]] = end[idx[:-1]] > dispatch[idx[1:]]
    return busy


def state_dependence(dispatch: npt.NDArray[np.float64], start: npt.NDArray[np.float64],
                     end: npt.NDArray[np.float64], lane: npt.NDArray[np.integer], warmup: int = 0) -> float:
    """Spearman correlation between a measured request's service time and whether its lane was still
    busy with the previous request when it was dispatched (0 where either is constant).  On FIFO
    lanes with exchangeable service it is 0 up to noise (about 1/sqrt(n)): whether a request waits
    depends on the services before it, not on its own."""
    from scipy import stats as _st

    svc = _service(start, end, warmup)
    b = busy_at_dispatch(dispatch, end, lane)[warmup:]
    if b.all() or not b.any() or np.ptp(svc) == 0:
        return 0.0
    rho = float(_st.spearmanr(b, svc).statistic)
    return rho if math.isfinite(rho) else 0.0


#: Requests per block of the time check (``time_dependence``): a slow spell of a machine lasts
#: about this many requests or more (review29: spells of 100 ms at 1.6 requests/ms, x1.5 for 10% of
#: the time, were seen in 65-78% of runs with blocks of 50-500, by a lag-1 correlation in none).
TIME_BLOCK = 200
#: A check of exchangeability says "not" below this p (about one run in 1,000 by chance).
EXCHANGE_P = 1e-3


def time_dependence(start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], warmup: int = 0) -> float:
    """Kruskal-Wallis p of the measured service times across contiguous blocks of ``TIME_BLOCK``
    requests in schedule order (1.0 with fewer than 5 blocks): uniform for services drawn
    independently; small where the machine was slow for a while within the run (a neighbour's
    burst, a clock step), or the service drifted."""
    from scipy import stats as _st

    svc = _service(start, end, warmup)
    k = svc.size // TIME_BLOCK
    if k < 5 or np.ptp(svc) == 0:
        return 1.0
    pv = float(_st.kruskal(*svc[: k * TIME_BLOCK].reshape(k, TIME_BLOCK)).pvalue)
    return pv if math.isfinite(pv) else 1.0


def not_exchangeable(dispatch: npt.NDArray[np.float64], start: npt.NDArray[np.float64],
                     end: npt.NDArray[np.float64], lane: npt.NDArray[np.integer], warmup: int,
                     bound: bool) -> str:
    """Why this run's measured service times cannot be dealt at random ("" when they can): a
    service that depends on whether its lane was busy (``state_dependence``), on when it ran
    (``time_dependence``: slow spells, a drift), or, for lanes sharing a queue (``bound`` false), on
    the lane (a slow core, whose slowness dealt across lanes would be averaged away: an independent
    check's one slow lane, p95 x20, read +67%)."""
    rho = state_dependence(dispatch, start, end, lane, warmup)
    if abs(rho) >= STATE_RHO:
        return f"service depends on whether the lane was busy (Spearman {rho:+.2f})"
    pv = time_dependence(start, end, warmup)
    if pv < EXCHANGE_P:
        return f"service depends on when it ran (Kruskal-Wallis over blocks of {TIME_BLOCK}, p {pv:.1e}: slow spells)"
    if not bound:
        from scipy import stats as _st

        svc, ln = _service(start, end, warmup), lane[warmup:]
        groups = [svc[ln == k] for k in np.unique(ln)]
        if len(groups) > 1 and all(g.size > 1 for g in groups) and np.ptp(svc) > 0:
            pv = float(_st.kruskal(*groups).pvalue)
            if pv < EXCHANGE_P:
                return f"the lanes' services differ (Kruskal-Wallis p {pv:.1e})"
    return ""


def shuffled(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
             lane: npt.ArrayLike, ps: Sequence[float], *, warmup: int = 0,
             shuffles: int = SHUFFLES) -> dict[float, float] | None:
    """``shuffled_why``'s levels alone."""
    return shuffled_why(scheduled, dispatch, start, end, lane, ps, warmup=warmup, shuffles=shuffles)[0]


def shuffled_why(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
                 lane: npt.ArrayLike, ps: Sequence[float], *, warmup: int = 0,
                 shuffles: int = SHUFFLES) -> tuple[dict[float, float] | None, str]:
    """This run's statistic (``stats.run_statistic`` of the latency in ms) at each percentile in
    ``ps``, averaged over ``shuffles`` replays in which the measured requests' service times are
    dealt to them in random order (conditional Monte Carlo).

    Where the slow services of a run happen to fall (in a burst or in a lull) moves its p95 from run
    to run as much as a 10% slower service does on bursty queues; the replay keeps the schedule, the
    dispatch times, each request's hand-off and the run's own service times, and averages over where
    they fall.  When service times are exchangeable (independent of where a request sits) its
    expectation is the statistic's own, with 1.2-2.4x less spread between runs on the bursty grid
    cells (1.0-1.6x on an independent check's queues).  Lanes bound to requests round-robin are
    replayed as such (CUDA streams), each lane's services dealt among its own requests (a lane of
    its own speed keeps it); any other assignment as lanes sharing one FIFO queue (the CPU
    backend), services dealt across lanes.  ``None`` where the replay cannot stand for the run: a
    request that failed or never ended, too few requests, a replay in the measured order that
    misses the measured statistic by more than ``FIT_TOL`` (a batcher, lanes that are not FIFO
    servers), or services that are not exchangeable (``not_exchangeable``): then with why, in words
    (reports say why a comparison used the measured levels)."""
    stamps, why = _stamps_why(scheduled, dispatch, start, end, lane, warmup, 1e6)
    if stamps is None:
        return None, why
    t, d, s, e, ln = stamps
    n = t.size
    period = np.unique(ln).size
    bound = n >= period and np.array_equal(ln, np.resize(ln[:period], n))
    why = not_exchangeable(d, s, e, ln, warmup, bound)
    if why:
        return None, why
    gap = _gaps(d, s, e, ln)
    svc = e - s
    rng = np.random.default_rng(SHUFFLE_SEED)
    m = n - warmup
    if bound:  # within each lane: the same permutations for every run of the schedule
        own = [np.flatnonzero(ln[warmup:] == k) for k in np.unique(ln)]
        perms = []
        for _ in range(shuffles):
            order = np.arange(m)
            for idx in own:
                order[idx] = idx[rng.permutation(idx.size)]
            perms.append(order)
    else:
        perms = [rng.permutation(m) for _ in range(shuffles)]
    orders = np.vstack([np.arange(m), *perms])
    table = np.broadcast_to(svc, (orders.shape[0], n)).copy()
    table[:, warmup:] = svc[warmup:][orders]  # the warm-up keeps its own (cold) services
    done = _fixed_lanes(d, gap, table, ln) if bound else _shared_queue(d, gap, table, period)
    lat = done[:, warmup:] - t[warmup:]
    if np.any(lat <= 0):
        return None, "a replayed completion came before its scheduled arrival"
    measured = e[warmup:] - t[warmup:]
    out = {}
    for p in ps:
        miss = abs(stats.run_statistic(lat[0], p) - stats.run_statistic(measured, p))
        if not miss <= FIT_TOL:
            return None, (f"replayed in the measured order, the run's level moved by {miss:.1%} (over "
                          f"{FIT_TOL:.1%}): its lanes did not serve requests as FIFO lanes replay them "
                          f"(a batcher's do not; nor threads that a busy machine ran out of turn)")
        out[p] = float(np.mean([stats.run_statistic(row, p) for row in lat[1:]]))
    return out, ""


def sped_up(scheduled: npt.ArrayLike, dispatch: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike,
            lane: npt.ArrayLike, ps: Sequence[float], factor: float, *,
            warmup: int = 0, punctual: bool = False) -> dict[float, float] | None:
    """How far this run's statistic (``stats.run_statistic`` of the latency in ms) would fall, per
    percentile in ``ps``, on a machine ``factor`` times faster: T(1/factor) - T(1).

    A machine control that read the machine slower holds a REGRESSED back only where the machine
    can explain it (``gate.compare``); near saturation a 5% slower machine moves a p95 by 2x, on a
    light queue by 5%, so the answer is this run's own queue replayed with every time the machine
    spends on a request, its service and its hand-off, divided by the factor (the dispatch times
    kept: the schedule and the generator do not speed up).  Lanes bound round-robin are replayed
    as such, others as one shared FIFO queue (``shuffled``'s models).  ``punctual``: both replays
    dispatch every request at its scheduled arrival, for a comparison of the latencies a punctual
    generator would have left (``gate.from_dispatch``, which ``timeline.start_delay`` reads off the
    same replay).  None where the replay with the measured dispatch times misses the measured
    statistic by more than ``FIT_TOL`` (a batcher, lanes that are not FIFO servers) or the run
    cannot be replayed."""
    stamps = _stamps(scheduled, dispatch, start, end, lane, warmup, 1e6)
    if stamps is None or not (math.isfinite(factor) and factor > 0):
        return None
    t, d, s, e, ln = stamps
    n = t.size
    period = np.unique(ln).size
    bound = n >= period and np.array_equal(ln, np.resize(ln[:period], n))
    work = _gaps(d, s, e, ln) + (e - s)
    zero = np.zeros(n, dtype=np.float64)

    def replayed(go: npt.NDArray[np.float64], rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        done = _fixed_lanes(go, zero, rows, ln) if bound else _shared_queue(go, zero, rows, period)
        return np.maximum(done[:, warmup:] - t[warmup:], 1e-9)

    fit = replayed(d, work[None, :])[0]
    lat = replayed(t, np.vstack([work, work / factor])) if punctual else replayed(d, (work / factor)[None, :])
    base = lat[0] if punctual else fit
    measured = e[warmup:] - t[warmup:]
    out = {}
    for p in ps:
        if not abs(stats.run_statistic(fit, p) - stats.run_statistic(measured, p)) <= FIT_TOL:
            return None
        out[p] = float(stats.run_statistic(lat[-1], p) - stats.run_statistic(base, p))
    return out


def pool_start_floor(scheduled_ms: npt.ArrayLike, work_ms: npt.ArrayLike, workers: int,
                     lanes: int) -> npt.NDArray[np.float64]:
    """For each request (scheduled order), a floor under its wait from its scheduled arrival to
    its start on a lane, where every body calls one pool of ``workers`` workers that holds each
    call at least ``work_ms`` (0 for a call that skips it) and ``lanes`` lanes take the requests
    in order, each busy until its body returns.  Order-free, so sound whatever order the pool
    serves its queue in: when request i starts, requests s..i-1 (s any earlier one) have all
    started and at most ``lanes - 1`` still run, so at least ``i - s - lanes + 1`` of them have
    ended, each after its call's work, all of it done after ``scheduled[s]`` at ``workers`` calls
    at a time: the start is at least ``scheduled[s]`` plus the least such work over ``workers``.
    ``s`` runs over the starts of chunks of the run at halving sizes (an overload's whole run, a
    burst's chunk); each chunk's least work sums its smallest calls (a floor under any subset's)."""
    a = np.asarray(scheduled_ms, dtype=np.float64)
    f = np.clip(np.nan_to_num(np.asarray(work_ms, dtype=np.float64), nan=0.0, posinf=0.0), 0.0, None)
    n = a.size
    out = np.zeros(n)
    if n == 0 or workers < 1 or lanes < 1:
        return out
    size = n
    while size > lanes:
        for s in range(0, n, size):
            e = min(n, s + size)
            least = np.concatenate([[0.0], np.cumsum(np.sort(f[s:e]))])
            ended = np.arange(e - s) - lanes + 1  # of s..i-1, at least this many have ended
            ok = ended >= 1
            idx = np.arange(s, e)[ok]
            out[idx] = np.maximum(out[idx], a[s] + least[ended[ok]] / workers - a[idx])
        size //= 2
    return out


def pool_done_floor(scheduled_ms: npt.ArrayLike, work_ms: npt.ArrayLike, workers: int) -> npt.NDArray[np.float64]:
    """Latencies (ms, scheduled order) that the run's own, sorted, are at least, element by element,
    where every request's call to one pool of ``workers`` needs at least ``work_ms`` of its time
    (0: no call) and the request ends after it: order-free, so sound whatever order the pool serves
    in, with any number of lanes.  Of the requests that arrive in [t0, t1], the j-th to be served
    ends at least t0 + (the j smallest works) / workers, so its latency is at least that less t1.
    Windows: the busy periods of a fluid server of the pool's speed fed at the scheduled arrivals
    (those need no order), each cut once where its bound weighs most (a burst's end), the rest its
    own window.  The values of a window are placed in scheduled order (a queue's latencies rise
    through a burst); only their sorted whole is a floor, not each one."""
    a = np.asarray(scheduled_ms, dtype=np.float64)
    f = np.clip(np.nan_to_num(np.asarray(work_ms, dtype=np.float64), nan=0.0, posinf=0.0), 0.0, None) / max(workers, 1)
    n = a.size
    out = np.zeros(n)
    if n == 0 or workers < 1:
        return out
    # busy periods of the fluid server: a new one where the work before drained by the arrival
    left, starts = 0.0, [0]
    for i in range(1, n):
        left = max(0.0, left + f[i - 1] - (a[i] - a[i - 1]))
        if left <= 0.0:
            starts.append(i)
    bounds = [*starts, n]

    def window(s: int, e: int, cut: bool) -> None:
        least = np.cumsum(np.sort(f[s:e]))  # least[j-1]: the j smallest works
        if cut and e - s > 1:
            # the prefix s..r whose floors sum highest: sum_j max(0, least[j] - (a[r] - a[s])), j <= r - s + 1
            span = a[s:e] - a[s]
            prefix = np.concatenate([[0.0], np.cumsum(least)])
            first = np.searchsorted(least, span, side="right")  # terms from here are positive
            upto = np.arange(1, e - s + 1)
            lo = np.minimum(first, upto)
            weight = prefix[upto] - prefix[lo] - (upto - lo) * span
            r = s + int(np.argmax(weight))
            if r + 1 < e:
                window(s, r + 1, False)
                window(r + 1, e, False)
                return
        out[s:e] = np.maximum(0.0, a[s] + least[: e - s] - a[e - 1])

    for s, e in zip(bounds[:-1], bounds[1:]):
        window(s, e, True)
    return out


def batch_timer_floor(scheduled_ms: npt.ArrayLike, entered: npt.ArrayLike, max_size: int,
                      max_wait_ms: float) -> npt.NDArray[np.float64]:
    """Each request's wait in a fixed batcher's queue (ms) on a machine that takes no time at all:
    requests reach it at their scheduled arrivals (``entered``: those that go through it; 0 for the
    rest), and a batch leaves when its ``max_size``-th request arrives or ``max_wait_ms`` after its
    first, whichever comes first.  The batcher's own policy on the promised load: no neighbour
    makes it shorter or longer (review173 F1: a 150-ms wait against a 60-ms budget was held back
    as the neighbours' doing)."""
    at = np.asarray(scheduled_ms, dtype=np.float64)
    inside = np.asarray(entered, dtype=bool)
    out = np.zeros(at.size, dtype=np.float64)
    order = np.flatnonzero(inside)[np.argsort(at[inside], kind="stable")]
    times = at[order]
    i = 0
    while i < times.size:
        first = times[i]
        deadline = first + max_wait_ms
        last = min(i + max_size, int(np.searchsorted(times, deadline, side="right")))
        leave = times[last - 1] if last - i == max_size else deadline
        out[order[i:last]] = leave - times[i:last]
        i = last
    return out
