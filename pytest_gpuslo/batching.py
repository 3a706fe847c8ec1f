"""Batchers users put in front of a GPU step, and test as a service (layer 3, stdlib only).

``AdaptiveBatcher`` ships a batch when it reaches its *target* size or when the oldest queued
request has waited ``max_wait_ms`` (Triton's ``max_queue_delay``), never above ``max_size``.  With
``adaptive=True`` the target follows the observed arrival rate: about the number of requests that
arrive within ``max_wait_ms``, capped by ``max_size`` (a ceiling, as Clipper's AIMD caps its
batch).  ``preferred_fill`` (0-1) is the percent-full admission rule: a batch may leave early once
it is that full of its target and the queue behind it is empty.

``FixedBatcher`` is the plain policy for comparison: a fixed size plus a fixed timeout counted
from the first request of the batch; with a small "just to be safe" timeout it ships near-empty
batches right before bursts.

Both run ``process(batch) -> results`` on one worker thread, return a ``concurrent.futures.Future``
per request, fail every request of a batch whose processing raised, and never hang: ``close()``
fails what is still queued with ``BatcherClosed`` (or drains it first with ``drain=True``).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pytest_gpuslo.errors import GpuSloError, InvalidArgument
from pytest_gpuslo.recorder import ServingCpu, served_for, serving_done


class BatcherClosed(GpuSloError, RuntimeError):
    """The batcher was closed before this request was processed."""


@dataclass
class BatchRecord:
    """What happened to one batch (kept for the per-stage report and for tests)."""

    size: int
    #: seconds the oldest request waited in the queue before the batch left.
    oldest_wait_s: float
    #: why it left: "target", "max_size", "max_wait", "fill" or "drain".
    reason: str
    service_s: float = 0.0
    failed: bool = False


@dataclass
class _Item:
    payload: Any
    future: Future[Any]
    enqueued: float
    enqueued_ns: int = 0
    #: the submitting thread's native id: the worker serves its call (``recorder.SERVED_BY``).
    waiter: int = 0
    #: called with the batch's start (``perf_counter_ns``) when the worker takes it: a request
    #: whose batch never returns shows the stage it is stuck in (review111 F2).
    on_start: Callable[[int], None] | None = None


def _check(name: str, value: Any, *, minimum: float, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    # (review106: max_wait_ms=inf killed the worker thread, nan left batches waiting forever)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value < minimum:
        kind = "a whole number" if integer else "a finite number"
        raise InvalidArgument(f"{name}={value!r} must be {kind} >= {minimum:g}.")


def _callable(what: str, value: Any) -> None:
    if not callable(value):
        raise InvalidArgument(f"{what}={value!r} is not callable; pass a function (for a batcher, one taking a "
                              f"list of payloads and returning one result per payload, in order)")


@dataclass
class _Base:
    process: Callable[[Sequence[Any]], Sequence[Any]]
    max_size: int = 32
    max_wait_ms: float = 5.0
    clock: Callable[[], float] = time.perf_counter
    records: list[BatchRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        _callable("process", self.process)
        _check("max_size", self.max_size, minimum=1, integer=True)
        _check("max_wait_ms", self.max_wait_ms, minimum=0.0)
        self._queue: collections.deque[_Item] = collections.deque()
        self._cv = threading.Condition()
        self._closed = False
        self._drain = False
        self._worker = threading.Thread(target=self._run, name=f"gpuslo-{type(self).__name__}", daemon=True)
        self._worker.start()

    # -- public ------------------------------------------------------------------------------
    def submit(self, payload: Any) -> Future[Any]:
        """Queue one request; its future resolves to its result or its batch's exception."""
        return self._submit(payload, None)

    def _submit(self, payload: Any, on_start: Callable[[int], None] | None) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._cv:
            if self._closed:
                fut.set_exception(BatcherClosed("the batcher is closed; create a new one"))
                return fut
            self._queue.append(_Item(payload, fut, self.clock(), time.perf_counter_ns(), threading.get_native_id(),
                                     on_start))
            self._observe_arrival()
            self._cv.notify()
        return fut

    def __call__(self, payload: Any, timeout: float | None = None, *, request: Any = None,
                 stage: str = "batch") -> Any:
        """Submit and wait: the batched step as a plain function call.

        With ``request`` (an ``slo_request``), the time is recorded as two stages of that
        request: ``<stage>.queue`` (waiting for a batch) and ``<stage>.service`` (the batch's
        processing), so the summary shows which one holds the tail.
        """
        on_start = None if request is None else _opened(request, stage)
        fut = self._submit(payload, on_start)
        result = fut.result(timeout)
        times = getattr(fut, "gpuslo_times", None)
        if request is not None and times is not None:
            enq, start, end, slept = times
            size = self._fixed_size()
            rec = getattr(request, "_recorder", None)
            if rec is not None:
                rec.batch_waits[f"{stage}.queue"] = float(self.max_wait_ms)
            if size is not None and rec is not None:
                # its policy alone, replayed on the schedule, is a floor no neighbour explains
                rec.timers[f"{stage}.queue"] = (size, float(self.max_wait_ms))
            request.record_stage(f"{stage}.queue", enq, start)
            request.record_stage(f"{stage}.service", start, end, workers=1, batch=self.max_size, slept_ns=slept)
        return result

    def close(self, *, drain: bool = False, timeout: float = 5.0) -> None:
        """Stop.  drain=True processes what is queued first; otherwise it fails with BatcherClosed."""
        with self._cv:
            self._closed = True
            self._drain = drain
            if not drain:
                while self._queue:
                    self._queue.popleft().future.set_exception(
                        BatcherClosed("the batcher was closed before this request was processed"))
            self._cv.notify_all()
        self._worker.join(timeout)

    def __enter__(self) -> "_Base":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(drain=True)

    # -- policy hooks --------------------------------------------------------------------------
    def _fixed_size(self) -> int | None:
        """The size a batch ships at, where that and ``max_wait_ms`` are the whole policy (the
        timer floor's replay, ``replay.batch_timer_floor``); None where the policy moves."""
        return None

    def _observe_arrival(self) -> None:
        pass

    def _ready(self, now: float) -> str | None:
        raise NotImplementedError

    def _deadline(self) -> float:
        """When the oldest queued request must leave at the latest."""
        return self._queue[0].enqueued + self.max_wait_ms / 1000.0

    # -- worker ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as exc:  # noqa: BLE001 - no request waits on a worker that died
            with self._cv:
                self._closed = True
                while self._queue:
                    self._queue.popleft().future.set_exception(exc)
            raise
        finally:
            serving_done()

    def _serve(self) -> None:
        cpu = ServingCpu()
        while True:
            cpu.tick()
            with self._cv:
                while True:
                    if self._queue:
                        now = self.clock()
                        reason = "drain" if self._closed else self._ready(now)
                        if reason:
                            break
                        self._cv.wait(max(0.0, self._deadline() - now))
                    elif self._closed:
                        return
                    else:
                        self._cv.wait()
                take = min(self.max_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(take)]
            oldest = now - batch[0].enqueued
            t0 = self.clock()
            record = BatchRecord(len(batch), oldest, reason)
            started_ns = time.perf_counter_ns()
            for item in batch:
                if item.on_start is not None:
                    item.on_start(started_ns)
            try:
                with served_for([item.waiter for item in batch]) as call:
                    results = self.process([item.payload for item in batch])
                if not isinstance(results, Sequence) and not hasattr(results, "__len__"):
                    # review106: "object of type 'NoneType' has no len()"
                    raise RuntimeError(f"process() returned {type(results).__name__}, not a sequence; it must "
                                       f"return one result per request of the batch, in order (a list)")
                if len(results) != len(batch):
                    raise RuntimeError(f"process() returned {len(results)} results for a batch of "
                                       f"{len(batch)}; it must return one result per request, in order")
            except BaseException as exc:  # noqa: BLE001 - every request of the batch gets it
                record.failed = True
                for item in batch:
                    item.future.set_exception(exc)
            else:
                ended_ns = time.perf_counter_ns()
                slept = call.slept_ns(ended_ns - started_ns)
                for item, res in zip(batch, results):
                    # Host stamps for the per-stage report: queue = enqueue -> batch start.
                    item.future.gpuslo_times = (item.enqueued_ns, started_ns, ended_ns, slept)  # type: ignore[attr-defined]
                    item.future.set_result(res)
            record.service_s = self.clock() - t0
            self.records.append(record)


@dataclass
class FixedBatcher(_Base):
    """Ship at ``max_size`` requests, or ``max_wait_ms`` after the first request of the batch."""

    def _fixed_size(self) -> int | None:
        return self.max_size

    def _ready(self, now: float) -> str | None:
        if len(self._queue) >= self.max_size:
            return "max_size"
        if now >= self._deadline():
            return "max_wait"
        return None


@dataclass
class AdaptiveBatcher(_Base):
    """Ship at the target size (adapted to the arrival rate, capped by max_size), when the oldest
    request has waited max_wait_ms, or when the batch is ``preferred_fill`` of its target with
    nobody queued behind it."""

    #: the starting target (fixed where ``adaptive=False``); default 8, or max_size where smaller.
    target_size: int | None = None
    adaptive: bool = True
    preferred_fill: float = 1.0
    #: smoothing of the arrival-rate estimate (exponential weight of the newest gap).
    smoothing: float = 0.05

    def __post_init__(self) -> None:
        _check("max_size", self.max_size, minimum=1, integer=True)
        if self.target_size is None:
            # review106: max_size=1 read "target_size=8 exceeds max_size=1", a target nobody gave
            self.target_size = min(8, self.max_size)
        _check("target_size", self.target_size, minimum=1, integer=True)
        if self.target_size > self.max_size:
            raise InvalidArgument(f"target_size={self.target_size!r} exceeds max_size={self.max_size!r}; "
                                  f"the target must fit under the ceiling: pass target_size <= max_size.")
        for name, value in (("preferred_fill", self.preferred_fill), ("smoothing", self.smoothing)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
                raise InvalidArgument(f"{name}={value!r} must lie in (0, 1].")
        self._gap_s: float | None = None
        self._last_arrival: float | None = None
        self._target = float(self.target_size)
        super().__post_init__()

    @property
    def target(self) -> int:
        """The current target batch size."""
        return max(1, min(self.max_size, int(round(self._target))))

    def _fixed_size(self) -> int | None:
        # a fixed target (review174 F1: adaptive=False with target_size got no timer floor): it
        # ships at its target's preferred fill, the target or max_size, whichever comes first
        return None if self.adaptive else min(self.max_size, self.target,
                                              max(1, math.ceil(self.preferred_fill * self.target)))

    def _observe_arrival(self) -> None:
        now = self._queue[-1].enqueued
        if self._last_arrival is not None:
            gap = max(now - self._last_arrival, 1e-9)
            self._gap_s = gap if self._gap_s is None else (1 - self.smoothing) * self._gap_s + self.smoothing * gap
            if self.adaptive:
                # About as many requests as arrive while the oldest may wait: fuller batches when
                # traffic is dense, no waiting for a batch that will not fill when it is sparse.
                expected = (self.max_wait_ms / 1000.0) / self._gap_s
                self._target = max(1.0, min(float(self.max_size), expected))
        self._last_arrival = now

    def _ready(self, now: float) -> str | None:
        n = len(self._queue)
        if n >= self.max_size:
            return "max_size"
        if n >= self.target:
            return "target"
        if n >= math.ceil(self.preferred_fill * self.target):
            return "fill"
        if now >= self._deadline():
            return "max_wait"
        return None


def _opened(request: Any, stage: str) -> Callable[[int], None]:
    """Stamps ``<stage>.queue`` from now and, when a worker takes the call, ``<stage>.service``
    from then, both left open (end -1) until the call returns and records them whole: a call
    that never returns shows where it is stuck (review111 F2: a hung pool call's request had no
    stage times, and the stage table blamed a healthy downstream stage for the tail)."""
    queued = time.perf_counter_ns()
    request.record_stage(f"{stage}.queue", queued, -1)

    def started(at: int) -> None:
        request.record_stage(f"{stage}.queue", queued, at)
        request.record_stage(f"{stage}.service", at, -1)

    return started


class _DaemonPool:
    """``workers`` daemon threads taking calls in order: a call that never returns keeps its thread,
    not the interpreter's exit (review106: a hung ``Stage.pool`` function left pytest waiting forever
    after "1 passed", in ``shutdown(wait=True)`` and again in the executor's exit hook)."""

    def __init__(self, name: str, workers: int) -> None:
        import queue

        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"gpuslo-{name}-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        self._calls.put((fn, fut))
        return fut

    def _work(self) -> None:
        cpu = ServingCpu()
        while (call := self._calls.get()) is not None:
            cpu.tick()
            fn, fut = call
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - the caller's future carries it
                fut.set_exception(exc)
        serving_done()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers once what is queued is done; wait at most ``timeout`` s in all."""
        for _ in self._threads:
            self._calls.put(None)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


#: Stage names the per-stage report keeps for itself: the lane wait, and a pool's or a batcher's
#: two rows (review106: a stage named "admission" replaced the plugin's own row).
RESERVED = ("admission",)
RESERVED_ENDINGS = (".queue", ".service")


class Stage:
    """One step of a staged service.  Build with ``Stage.pool``, ``Stage.batched`` or ``Stage.inline``."""

    def __init__(self, name: str, run: Callable[[Any, Any], Any], close: Callable[[], None] | None = None) -> None:
        if not name or not isinstance(name, str):
            raise InvalidArgument(f"a stage needs a name, got {name!r}")
        if name in RESERVED or name.endswith(RESERVED_ENDINGS):
            raise InvalidArgument(f"stage name {name!r} is the report's own ('admission' is the wait for a lane; "
                                  f"'<stage>.queue' and '<stage>.service' are a pool's or a batcher's rows); "
                                  f"choose another name")
        self.name = name
        self._run = run
        self._close = close

    @classmethod
    def pool(cls, name: str, fn: Callable[[Any], Any], workers: int = 2) -> "Stage":
        """``fn`` on a thread pool of ``workers``: CPU pre- or post-processing.  The request's time
        splits into ``<name>.queue`` (waiting for a worker) and ``<name>.service``."""
        _check("workers", workers, minimum=1, integer=True)
        _callable(f"Stage.pool({name!r}) fn", fn)
        pool = _DaemonPool(name, workers)

        def timed(x: Any, waiter: int, on_start: Callable[[int], None] | None) -> tuple[Any, int, int, int]:
            start = time.perf_counter_ns()
            if on_start is not None:
                on_start(start)
            with served_for((waiter,)) as call:
                out = fn(x)
            end = time.perf_counter_ns()
            return out, start, end, call.slept_ns(end - start)

        def run(x: Any, request: Any) -> Any:
            enq, waiter = time.perf_counter_ns(), threading.get_native_id()
            on_start = None if request is None else _opened(request, name)
            out, start, end, slept = pool.submit(lambda: timed(x, waiter, on_start)).result()
            if request is not None:
                request.record_stage(f"{name}.queue", enq, start)
                request.record_stage(f"{name}.service", start, end, workers=workers, slept_ns=slept)
            return out

        return cls(name, run, pool.close)

    @classmethod
    def batched(cls, name: str, batcher: "_Base") -> "Stage":
        """A batcher (``<name>.queue`` waiting for a batch, ``<name>.service`` its processing)."""
        if not isinstance(batcher, _Base):
            raise InvalidArgument(f"Stage.batched({name!r}, ...) needs an AdaptiveBatcher or FixedBatcher, got "
                                  f"{type(batcher).__name__}; wrap the function: Stage.batched({name!r}, "
                                  f"AdaptiveBatcher(fn)), or use Stage.inline for a plain step")
        return cls(name, lambda x, request: batcher(x, request=request, stage=name),
                   lambda: batcher.close(drain=True))

    @classmethod
    def inline(cls, name: str, fn: Callable[[Any], Any]) -> "Stage":
        """``fn`` in the caller's lane, timed as stage ``name``."""
        _callable(f"Stage.inline({name!r}) fn", fn)

        def run(x: Any, request: Any) -> Any:
            if request is None:
                return fn(x)
            with request.stage(name):
                return fn(x)

        return cls(name, run)


class StagedService:
    """Requests through named stages in order: ``service(payload, request=slo_request)``.

    Each stage reports its time in queue and its service time per request, so the summary shows
    which stage holds the tail (the "innocent little pre-processor").  ``close()`` shuts pools and
    drains batchers.
    """

    def __init__(self, *stages: Stage) -> None:
        if not stages:
            raise InvalidArgument("a staged service needs at least one Stage")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"stage names must differ, got {names}")
        self.stages = stages

    def __call__(self, payload: Any, request: Any = None) -> Any:
        x = payload
        for stage in self.stages:
            x = stage._run(x, request)
        return x

    def close(self) -> None:
        for stage in self.stages:
            if stage._close is not None:
                stage._close()
