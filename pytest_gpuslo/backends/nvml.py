"""NVML telemetry and the GPU fingerprint (nvidia-ml-py, imported lazily).

A daemon thread samples clocks, clock-event (throttle) reasons, utilisation, power, temperature,
memory and the processes on the GPU every 100 ms during an SLO test.  Every NVML query is wrapped
on its own: a field the GPU does not support reads as ``None``, never fails a test.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

#: Clock-event reason bits (numeric: pynvml names changed across versions).
REASONS = {
    0x1: "gpu_idle", 0x2: "applications_clocks_setting", 0x4: "sw_power_cap", 0x8: "hw_slowdown",
    0x10: "sync_boost", 0x20: "sw_thermal_slowdown", 0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown", 0x100: "display_clock_setting",
}
#: Reasons that make a run's timings unrepresentative on their own.
DISTURBING = 0x8 | 0x20 | 0x40 | 0x80
#: A software power cap counts only when the SM clock really sagged below this share of its median.
SAG = 0.90


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

    def foreign_processes(self) -> list[int]:
        """PIDs of other processes with a context on this GPU.

        Inside a container NVML may report host PIDs, so our own process can appear under another
        number; when our PID is absent, one entry is taken to be ourselves.
        """
        nv, h = self.nv, self.handle
        procs = _safe(lambda: nv.nvmlDeviceGetComputeRunningProcesses(h)) or []
        pids = [int(p.pid) for p in procs]
        me, parent = os.getpid(), os.getppid()
        if me in pids:
            # The parent is excluded too: a test runner that spawned this process (pytester,
            # xdist) may hold an idle context of its own.
            return [p for p in pids if p not in (me, parent)]
        return pids[1:]


class Sampler:
    """Polls an ``Nvml`` handle in a daemon thread between ``start()`` and ``stop()``."""

    def __init__(self, nvml: Nvml, interval_s: float = 0.1) -> None:
        self.nvml, self.interval_s = nvml, interval_s
        self.samples: list[dict[str, Any]] = []
        self.foreign: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.foreign.update(self.nvml.foreign_processes())
        self.samples.append(self.nvml.sample())
        self._thread = threading.Thread(target=self._run, name="gpuslo-nvml", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        polls = 0
        while not self._stop.wait(self.interval_s):
            self.samples.append(self.nvml.sample())
            polls += 1
            if polls % 10 == 0:  # the process list costs more: once a second
                self.foreign.update(self.nvml.foreign_processes())

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self.samples.append(self.nvml.sample())
        self.foreign.update(self.nvml.foreign_processes())
        return summarize(self.samples, sorted(self.foreign))


def summarize(samples: list[dict[str, Any]], foreign: list[int]) -> dict[str, Any]:
    """Telemetry summary with ``disturbances``: reasons that make a verdict INCONCLUSIVE."""

    def col(key: str) -> list[float]:
        return [s[key] for s in samples if s.get(key) is not None]

    sm = col("sm_mhz")
    reasons_seen = 0
    for s in samples:
        reasons_seen |= s.get("reasons") or 0
    names = [name for bit, name in REASONS.items() if reasons_seen & bit]
    disturbances: list[str] = []
    bad = reasons_seen & DISTURBING
    if bad:
        disturbances.append("GPU clocks were throttled during the run: "
                            + ", ".join(n for b, n in REASONS.items() if bad & b))
    if reasons_seen & 0x4 and sm:
        med = sorted(sm)[len(sm) // 2]
        if min(sm) < SAG * med:
            disturbances.append(f"software power cap pulled the SM clock to {min(sm):.0f} MHz "
                                f"(median {med:.0f} MHz)")
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
