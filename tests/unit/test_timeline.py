"""Clock mapping and overlap arithmetic on synthetic event timestamps (no GPU needed)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_gpuslo.timeline import Bracket, ClockMap, overlap, union


def test_clock_map_recovers_drift_and_offset() -> None:
    """Device clock runs 50 ppm fast; two anchors 10 s apart recover it to within the brackets."""
    true_offset, drift = 1_000_000_000, 50e-6
    # device elapsed e maps to host t = offset + e / (1 + drift)
    start = Bracket(true_offset - 6_000, true_offset + 6_000)
    elapsed = 10e9
    host_end = true_offset + elapsed / (1 + drift)
    end = Bracket(int(host_end) - 4_000, int(host_end) + 4_000)
    cmap = ClockMap.fit(start, end, elapsed)

    events = np.array([0.0, 2.5e9, 7e9, 10e9])
    expected = true_offset + events / (1 + drift)
    assert np.all(np.abs(cmap.to_host(events) - expected) <= cmap.error_ns + 1)
    assert cmap.drift_ppm == pytest.approx(-50, abs=2)
    assert 6_000 == cmap.error_ns


def test_clock_map_without_end_anchor_has_no_drift_correction() -> None:
    """One anchor: offset only, error = its half-width."""
    cmap = ClockMap.fit(Bracket(100, 120))

    assert 110 == cmap.to_host([0.0])[0]
    assert (1.0, 10.0) == (cmap.scale, cmap.error_ns)


def test_implausible_drift_is_refused() -> None:
    """A 1% 'drift' means a broken anchor, not a clock: the fit falls back to scale 1."""
    cmap = ClockMap.fit(Bracket(0, 10), Bracket(int(1.01e9), int(1.01e9) + 10), 1e9)

    assert 1.0 == cmap.scale


def test_union_merges_touching_and_nested_intervals() -> None:
    """[0,2) [1,3) [5,6) [5.5,5.8) -> [0,3) [5,6)."""
    u = union([(5, 6), (0, 2), (1, 3), (5.5, 5.8), (7, 7)])

    assert [[0, 3], [5, 6]] == u.tolist()


def test_overlap_of_copies_hidden_behind_compute() -> None:
    """Two streams: stream B's copies run during stream A's kernel; A's own copies do not."""
    ms = 1e6
    h2d = np.array([[0, 1], [2, 3]]) * ms      # A then B
    compute = np.array([[1, 5], [3, 7]]) * ms  # A's kernel 1-5, B's 3-7
    d2h = np.array([[5, 6], [7, 8]]) * ms
    ov = overlap(h2d, compute, d2h)

    assert 4.0 == ov.copy_ms
    assert 6.0 == ov.compute_ms
    assert 2.0 == ov.overlapped_ms      # B's h2d (2-3) and A's d2h (5-6) ran during kernels
    assert 50.0 == ov.percent
    assert 100.0 == ov.busy_percent


def test_overlap_ignores_stages_never_entered() -> None:
    """Rows stamped -1 (stage not entered) do not count."""
    ov = overlap([[-1, -1], [0, 1e6]], [[0, 2e6]], [[-1, -1]])

    assert 100.0 == ov.percent
