"""NVML telemetry and the GPU fingerprint (nvidia-ml-py, imported lazily).

A child process samples clocks, clock-event (throttle) reasons, utilisation, power, temperature,
memory and the processes on the GPU every 100 ms during an SLO test, so the sampling never takes
the GIL from the launcher (a sampler thread forced the launcher off the GIL for a switch interval
every 100 ms).  Every NVML query is wrapped on its own: a field the GPU does not support reads as
``None``, never fails a test.

Policy: thermal slowdown, hardware slowdown and the power brake are disturbances (the run does not
represent the workload); a software power cap is not: a heavy workload drawing the card to its
power limit is the workload's own behaviour.  Clocks and power are recorded either way.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

#: Clock-event reason bits (numeric: pynvml names changed across versions).
REASONS = {
    0x1: "gpu_idle", 0x2: "applications_clocks_setting", 0x4: "sw_power_cap", 0x8: "hw_slowdown",
    0x10: "sync_boost", 0x20: "sw_thermal_slowdown", 0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown", 0x100: "display_clock_setting",
}
#: Reasons that make a run's timings unrepresentative: thermal and hardware slowdown, the power
#: brake.  The software power cap (0x4) is the workload's own, so it is recorded, not held against it.
DISTURBING = 0x8 | 0x20 | 0x40 | 0x80


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - NVMLError_NotSupported and friends: a missing field
        return None


class Nvml:
    """A handle on one GPU, found by PCI bus id (the CUDA device's own)."""

    def __init__(self, pci_bus_id: str | None = None, index: int = 0) -> None:
        import pynvml

        self.nv = pynvml
        pynvml.nvmlInit()
        handle = None
        if pci_bus_id:
            handle = _safe(lambda: pynvml.nvmlDeviceGetHandleByPciBusId(pci_bus_id))
        self.handle = handle if handle is not None else pynvml.nvmlDeviceGetHandleByIndex(index)

    def close(self) -> None:
        _safe(self.nv.nvmlShutdown)

    def fingerprint(self) -> dict[str, Any]:
        nv, h = self.nv, self.handle

        def pair(fn: Callable[[Any], Any]) -> Any:
            v = _safe(lambda: fn(h))
            return list(v) if isinstance(v, (list, tuple)) else v

        mem = _safe(lambda: nv.nvmlDeviceGetMemoryInfo(h))
        power = _safe(lambda: nv.nvmlDeviceGetEnforcedPowerLimit(h))
        return {
            "gpu": _safe(lambda: nv.nvmlDeviceGetName(h)),
            "gpu_memory_mib": None if mem is None else int(mem.total // 2**20),
            "driver": _safe(nv.nvmlSystemGetDriverVersion),
            "cuda_driver": _safe(nv.nvmlSystemGetCudaDriverVersion),
            "mig_mode": pair(nv.nvmlDeviceGetMigMode),
            "ecc_mode": pair(nv.nvmlDeviceGetEccMode),
            "power_limit_w": None if power is None else power / 1000.0,
            "max_sm_clock_mhz": _safe(lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_SM)),
            "max_mem_clock_mhz": _safe(lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_MEM)),
            "pcie": [_safe(lambda: nv.nvmlDeviceGetCurrPcieLinkGeneration(h)),
                     _safe(lambda: nv.nvmlDeviceGetCurrPcieLinkWidth(h))],
            "persistence": _safe(lambda: nv.nvmlDeviceGetPersistenceMode(h)),
            "uuid": _safe(lambda: nv.nvmlDeviceGetUUID(h)),
        }

    def reasons(self) -> int | None:
        nv, h = self.nv, self.handle
        fn = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
            nv.nvmlDeviceGetCurrentClocksThrottleReasons
        value = _safe(lambda: fn(h))
        return None if value is None else int(value)

    def sample(self) -> dict[str, Any]:
        nv, h = self.nv, self.handle
        util = _safe(lambda: nv.nvmlDeviceGetUtilizationRates(h))
        mem = _safe(lambda: nv.nvmlDeviceGetMemoryInfo(h))
        power = _safe(lambda: nv.nvmlDeviceGetPowerUsage(h))
        temp_fn = getattr(nv, "nvmlDeviceGetTemperatureV", None)
        temp = _safe(lambda: temp_fn(h, nv.NVML_TEMPERATURE_GPU)) if temp_fn else None
        if temp is None:
            temp = _safe(lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
        return {
            "t_ns": time.perf_counter_ns(),
            "sm_mhz": _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)),
            "mem_mhz": _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM)),
            "reasons": self.reasons(),
            "util_pct": None if util is None else util.gpu,
            "power_w": None if power is None else power / 1000.0,
            "temp_c": temp,
            "mem_used_mib": None if mem is None else int(mem.used // 2**20),
        }

    def foreign_processes(self, owner: int | None = None) -> list[int]:
        """PIDs of other processes with a context on this GPU than ``owner`` (default: this one).

        Inside a container NVML may report host PIDs, so the owner can appear under another
        number; when the owner's PID is absent, one entry is taken to be the owner.
        """
        nv, h = self.nv, self.handle
        procs = _safe(lambda: nv.nvmlDeviceGetComputeRunningProcesses(h)) or []
        pids = [int(p.pid) for p in procs]
        me = owner if owner is not None else os.getpid()
        if me in pids:
            # The owner's parent is excluded too: a test runner that spawned it (pytester, xdist)
            # may hold an idle context of its own.
            return [p for p in pids if p not in (me, _parent_of(me))]
        return pids[1:]


def _parent_of(pid: int) -> int | None:
    if pid == os.getpid():
        return os.getppid()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


class Sampler:
    """Samples NVML in a child process between ``start()`` and ``stop()`` (off our GIL).

    The child reports one JSON line per sample on its stdout and stops at a line on its stdin;
    ``perf_counter_ns`` is the monotonic clock on Linux, the same in both processes.
    """

    def __init__(self, pci_bus_id: str | None = None, index: int = 0, interval_s: float = 0.1) -> None:
        self.args = [sys.executable, "-m", "pytest_gpuslo.backends.nvml", "--sample",
                     pci_bus_id or "", str(index), str(interval_s), str(os.getpid())]
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()  # the first sample precedes the run
        if not ready.startswith("{"):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"the NVML sampler did not start: {ready.strip() or err.strip()[-300:]}")
        self._first = json.loads(ready)

    def stop(self) -> dict[str, Any]:
        assert self.proc is not None
        try:
            out, _ = self.proc.communicate("stop\n", timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        samples, foreign = [self._first], set(self._first.pop("foreign", []))
        for line in out.splitlines():
            if line.startswith("{"):
                sample = json.loads(line)
                foreign.update(sample.pop("foreign", []))
                samples.append(sample)
        return summarize(samples, sorted(foreign))


def _sample_forever(pci_bus_id: str, index: int, interval_s: float, owner: int) -> None:
    """The child: a sample now, then one per interval (processes once a second) until stdin speaks."""
    nvml = Nvml(pci_bus_id=pci_bus_id or None, index=index)

    def emit(with_procs: bool) -> None:
        sample = nvml.sample()
        if with_procs:
            sample["foreign"] = nvml.foreign_processes(owner)
        sys.stdout.write(json.dumps(sample) + "\n")
        sys.stdout.flush()

    emit(True)
    polls = 0
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], interval_s)
        polls += 1
        if ready:
            emit(True)
            return
        emit(polls % 10 == 0)


def summarize(samples: list[dict[str, Any]], foreign: list[int]) -> dict[str, Any]:
    """Telemetry summary with ``disturbances``: reasons that make a verdict INCONCLUSIVE."""

    def col(key: str) -> list[float]:
        return [s[key] for s in samples if s.get(key) is not None]

    reasons_seen = 0
    for s in samples:
        reasons_seen |= s.get("reasons") or 0
    names = [name for bit, name in REASONS.items() if reasons_seen & bit]
    disturbances: list[str] = []
    bad = reasons_seen & DISTURBING
    if bad:
        disturbances.append("GPU clocks were throttled during the run: "
                            + ", ".join(n for b, n in REASONS.items() if bad & b))
    if foreign:
        disturbances.append(f"other processes used the GPU during the run (PIDs {foreign[:5]})")

    def stat(key: str) -> dict[str, float] | None:
        v = col(key)
        return {"min": min(v), "max": max(v), "mean": sum(v) / len(v)} if v else None

    return {
        "samples": len(samples),
        "sm_mhz": stat("sm_mhz"), "mem_mhz": stat("mem_mhz"), "util_pct": stat("util_pct"),
        "power_w": stat("power_w"), "temp_c": stat("temp_c"), "mem_used_mib": stat("mem_used_mib"),
        "clock_event_reasons": names,
        # The workload drew the card to its power limit: recorded, not a disturbance.
        "power_capped": bool(reasons_seen & 0x4),
        "foreign_pids": foreign,
        "disturbances": disturbances,
        "trace": [{k: s[k] for k in ("t_ns", "sm_mhz", "reasons", "temp_c", "power_w")} for s in samples[-600:]],
    }


def count_devices() -> int:
    """GPUs on this host, from NVML (no CUDA context); 0 when there is no driver or library."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no driver, no library: no GPUs
        return 0


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "--sample":
    _sample_forever(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
