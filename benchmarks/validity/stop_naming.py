"""When is a stop named?  Real CPU SLO runs, stopped from outside (SIGSTOP, then SIGCONT) or not,
on a quiet machine, beside busy loops, and niced beside them: how often a row names "the process
was stopped for up to N ms", against the truth.

``gate.stopped_words`` names a stop of ``FROZEN_NAMED_MS`` or more, except where the process's
threads were starved (``run_queue_stretch`` >= ``STARVED_STRETCH``) or the stop is under
``BUSY_NAMED_MS`` beside busy neighbours.  Those two numbers were set from two cases (review153 F4:
stretch 141 and no stop; the suite's 0.4-s SIGSTOP beside the other xdist worker, stretch
1.4-1.6); this grid tries them on bodies and loads nobody tuned them to.  A "none" column over 0
is a false "stopped"; a stop column under 100% a stop left unnamed (the neighbours' words then
carry the run).  Where the threads were starved a stop is said as either ("the process was off
every CPU for up to N ms (a stop, or a wait on a thread kept from a CPU ...)"): the second column.

Usage: python -m benchmarks.validity.stop_naming [--reps 3] [--out FILE]   (about 10 minutes
on 2 idle cores; it starts and kills its own busy loops)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = '''
import os, time
import pytest

GO = os.environ["STOP_GO"]
BODY = os.environ["STOP_BODY"]

@pytest.mark.slo(p95_ms=50, rate_hz=500, streams=2, requests=3000, backend="cpu")
def test_stopped(slo_request):
    if slo_request.index == 1500:
        open(GO, "w").close()  # the driver stops the process from here on
    if BODY == "sleep":
        time.sleep(0.002)
    else:  # pure Python: holds the GIL about 1 ms
        t = time.perf_counter()
        while time.perf_counter() - t < 0.001:
            pass
'''

MACHINES = {"quiet": (0, 0), "2 busy": (2, 0), "3 busy at nice 10": (3, 10)}
STOPS_MS = (0, 60, 400)
BODIES = ("sleep", "python")


def loops(k: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(k)]


def one(work: Path, body: str, stop_ms: int, nice: int) -> dict[str, object]:
    go, out = work / "go", work / "r.json"
    for p in (go, out):
        p.unlink(missing_ok=True)
    env = {**os.environ, "STOP_GO": str(go), "STOP_BODY": body,
           "PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:benchmark -p no:xdist -p no:cacheprovider"}
    cmd = ["nice", "-n", str(nice)] if nice else []
    proc = subprocess.Popen([*cmd, sys.executable, "-m", "pytest", "-q", f"--gpuslo-json={out}", "-o",
                             "gpuslo_save=false"], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if stop_ms:
        end = time.monotonic() + 120
        while not go.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.002)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGSTOP)
            time.sleep(stop_ms / 1000)
            os.kill(proc.pid, signal.SIGCONT)
    text = proc.communicate(timeout=300)[0].decode(errors="replace")
    try:
        r = json.loads(out.read_text())["results"][0]
    except (OSError, ValueError, IndexError):
        return {"error": text[-400:]}
    tel = r.get("telemetry") or {}
    return {"named": "stopped for up to" in text, "hedged": "off every CPU for up to" in text, "outcome": r["verdict"]["outcome"],
            "frozen": (r.get("lag_ms") or {}).get("frozen_max") or 0.0, "stretch": tel.get("run_queue_stretch"),
            "load": tel.get("other_cpu_load"), "lag99": (r.get("lag_ms") or {}).get("p99")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="")
    ap.add_argument("--machines", default=",".join(MACHINES), help="comma-separated: " + ", ".join(MACHINES))
    ap.add_argument("--stops", default=",".join(map(str, STOPS_MS)), help="stop lengths, ms (0: none)")
    ap.add_argument("--bodies", default=",".join(BODIES))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_stop.py").write_text(TEST)
        for machine in args.machines.split(","):
            k, nice = MACHINES[machine]
            busy = loops(k)
            try:
                time.sleep(0.5 if k else 0)
                for body in args.bodies.split(","):
                    for stop in map(int, args.stops.split(",")):
                        got = [one(work, body, stop, nice) for _ in range(args.reps)]
                        ok = [g for g in got if "error" not in g]
                        named = sum(bool(g["named"]) for g in ok)
                        hedged = sum(bool(g["hedged"]) for g in ok)
                        frozen = [float(g["frozen"]) for g in ok]  # type: ignore[arg-type]
                        stretch = [g["stretch"] for g in ok if g["stretch"] is not None]
                        row = (f"| {machine} | {body} | {stop or 'none'} | {named}/{len(ok)} | {hedged}/{len(ok)} | "
                               f"{min(frozen, default=0):.0f}-{max(frozen, default=0):.0f} | "
                               f"{min(stretch, default=0):.2g}-{max(stretch, default=0):.2g} | "  # type: ignore[type-var]
                               f"{', '.join(str(g['outcome']) for g in ok)} |"
                               + (f" {len(got) - len(ok)} errors" if len(ok) < len(got) else ""))
                        print(row, flush=True)
                        rows.append(row)
            finally:
                for p in busy:
                    p.kill()
                    p.wait()
    head = ("| machine | body | stop, ms | named \"stopped\" | said \"off every CPU\" | frozen max, ms | "
            "run-queue stretch | verdicts |\n|---|---|---|---|---|---|---|---|")
    text = head + "\n" + "\n".join(rows) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
