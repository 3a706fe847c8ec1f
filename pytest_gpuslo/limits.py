"""Every size limit on what a user or a file hands the plugin, and the one bounded file reader.

Layer 0 (stdlib only, imports nothing of the project).  A limit exists so that a typo, a hostile
file or a runaway argument becomes one test's clear error instead of a session that runs out of
memory or never ends; each is documented in docs/limits.md with what happens past it.  Modules read
them as ``limits.NAME`` at call time, so a project that truly needs more can raise one in its
``conftest.py`` (``pytest_gpuslo.limits.MAX_REQUESTS = 50_000_000``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Final

from pytest_gpuslo.errors import dangling

#: Memory one scheduled request costs while a test runs: the schedule, the recorder's stamps, the
#: dispatcher's Python lists and the run data copied from them.  Measured at 174 bytes, 206 with a
#: named stage (peak, tracemalloc, 105k-420k requests on the CPU and virtual backends:
#: benchmarks/memory.py, docs/limits.md); rounded up for a second stage and a queued backlog.
BYTES_PER_REQUEST: Final = 256
#: Requests in one run, warm-up included: about 2.6 GB of memory at ``BYTES_PER_REQUEST``.
MAX_REQUESTS = 10_000_000
#: Lanes (worker threads, CUDA streams) of one test.
MAX_STREAMS = 1024
#: The longest schedule (and the largest timeout_s) a test may ask for, in seconds: 24 hours.  It
#: also keeps every nanosecond offset far inside int64.
MAX_HORIZON_S = 86_400.0

#: The highest offered rate (requests per second): one dispatcher thread spends about a
#: microsecond on each request, so past this a rate is a typo (1e12 ran, "offered 1e12/s,
#: achieved 453351/s", and the verdict named the sample size, not the rate: review35).
MAX_RATE_HZ = 10_000_000.0

#: Baseline files larger than this are refused unread (8 runs of 1M requests take about 33 MB with
#: their lag and start delay, about 51 MB when every run also kept its service times).
MAX_BASELINE_BYTES = 64 * 2**20
#: A run of more requests (warm-up included) leaves no request stamps in its last-run record
#: (``baseline.Stamps``, about 7 bytes a request): its file stays far under ``MAX_BASELINE_BYTES``,
#: and ``gpuslo compare`` of it holds back, with the reason, what a moved control would replay.
MAX_STAMPED_REQUESTS = 2_000_000
#: Runs a baseline file may hold when read (pytest-gpuslo writes at most 8: baseline.MAX_RUNS).
MAX_BASELINE_RUNS = 64
#: Nesting depth of a baseline's JSON (a real one is 4 deep).
MAX_JSON_DEPTH = 32
#: JSON values a baseline file may hold, counted before it is parsed as its commas and opening
#: brackets (a real one holds a few hundred: its samples are encoded strings, its free text capped):
#: a 40-MB file of ten million one-item lists took 30 s and 1.9 GB on every read (review187 F4).
MAX_JSON_VALUES = 500_000

#: pytest configuration files the CLI reads to find the store (pytest.ini, pyproject.toml, ...):
#: a larger one is refused unread (review117 F6: a 3-GB sparse pytest.ini ended in MemoryError).
MAX_CONFIG_BYTES = 8 * 2**20

#: Runs a side of one ``gpuslo ab`` session (``--runs``, ``--max-runs``): at about 10 s a run, 1,000
#: runs a side take over five hours; past this a count is a typo (review117 F18: 1e20 ran until killed).
MAX_AB_RUNS = 1000
#: A kept A/B session's files (``session.json``, each run's JSON report) larger than this are
#: refused unread by ``gpuslo ab --from`` (review117 F20: a 3-GB session.json, a MemoryError).
MAX_AB_FILE_BYTES = 64 * 2**20

#: Trace files: bytes, values and (text files) lines; a larger trace is refused before parsing.
MAX_TRACE_BYTES = 128 * 2**20
MAX_TRACE_VALUES = 5_000_000
#: A text or CSV trace's line: a row of arrival data is tens of characters; a longer line is refused
#: before it is split into cells (review117 F15: a 120-MB one-line trace peaked at 1.2 GB).
MAX_TRACE_LINE_CHARS = 65_536
MAX_TRACE_LINES = 5_000_000


def request_memory_bytes(requests: float) -> float:
    """The memory a run of ``requests`` scheduled requests needs while it runs."""
    return requests * BYTES_PER_REQUEST


def read_capped(path: str | os.PathLike[str], max_bytes: int, fail: Callable[[str], Exception]) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else raises ``fail(what)``.

    A device (``/dev/zero``), a FIFO, a socket or a directory is refused without reading it; the
    file is opened non-blocking (a FIFO swapped in after the check cannot hang the open) and read
    to at most ``max_bytes + 1`` bytes, so a file that grows or lies about its size stays bounded.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise fail("is a directory, not a file") from None
    except OSError as exc:
        # review117 F5: a link looping back on itself read "cannot be opened (No such file ...)"
        link = dangling(path)
        raise fail(f"is {link}" if link else f"cannot be opened ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise fail("is not a regular file (a device, FIFO or socket)")
        if info.st_size > max_bytes:
            raise fail(f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        chunks: list[bytes] = []
        got = 0
        while got <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:
            raise fail(f"holds more than the {max_bytes:,}-byte limit")
        return b"".join(chunks)
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
