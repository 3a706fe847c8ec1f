"""Marker validation and setting precedence (pure spec layer)."""

from __future__ import annotations

import pytest

from pytest_gpuslo.errors import InvalidArgument
from pytest_gpuslo.spec import pass_floor, resolve, seed_from_nodeid, validate_marker

WHERE = "t.py::test_a"


def check(**kwargs: object) -> dict[str, object]:
    return validate_marker((), kwargs, WHERE)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"p95ms": 4, "rate_hz": 1}, ["unknown slo argument 'p95ms'", "Did you mean 'p95_ms'?"]),
        ({"p101_ms": 4, "rate_hz": 1}, ["p101_ms=4 is not a percentile the marker budgets", "p999_ms is p99.9"]),
        ({"rate_hz": "fast"}, ["rate_hz='fast' must be a finite number", "str"]),
        ({"rate_hz": -3}, ["rate_hz=-3 must be > 0"]),
        ({"streams": 0, "rate_hz": 1}, ["streams=0 must be >= 1; give streams=1 or more"]),
        ({"streams": 2.5, "rate_hz": 1}, ["streams=2.5 must be a whole number", "float", "write it as streams=2."]),
        ({"requests": 200.7, "rate_hz": 1}, ["write it as requests=201."]),
        ({"p95_ms": 40, "p99_ms": 30, "rate_hz": 1}, ["p99_ms=30 is below p95_ms=40", "raise p99_ms"]),
        ({"duration_s": 1, "requests": 10, "rate_hz": 1}, ["give duration_s or requests, not both"]),
        ({"warmup_s": 1, "warmup_requests": 3, "rate_hz": 1}, ["give warmup_s or warmup_requests"]),
        ({"p95_ms": 40, "timeout_s": 0.01, "rate_hz": 1}, ["timeout_s=0.01 is not above the largest budget"]),
        ({"throughput_hz": 50, "rate_hz": 10}, ["throughput_hz=50 exceeds the offered rate"]),
        ({"backend": "gpu", "rate_hz": 1}, ["backend='gpu' is not one of auto, cpu, cuda"]),
        ({"arrivals": "poison", "rate_hz": 1}, ["unknown arrival process 'poison'", "Did you mean 'poisson'?"]),
        ({"arrivals": 3, "rate_hz": 1}, ["arrivals=3", "expected a process name"]),
        ({"seed": True, "rate_hz": 1}, ["seed=True must be a whole number"]),
        ({"p99_ms": float("nan"), "rate_hz": 1}, ["p99_ms=nan must be a finite number"]),
        # review95 #6: an OverflowError that named nothing
        ({"p95_ms": 10**400, "rate_hz": 1}, ["p95_ms is a 401-digit number, past any float", "p95_ms=40"]),
        # review197 F10: taken, and read as the code's FAIL
        ({"p95_ms": 1e-300, "rate_hz": 1}, ["p95_ms=1e-300 is under a microsecond, which no request meets",
                                            "budgets are in milliseconds: give e.g. p95_ms=40."]),
        # review200 F10: "raise timeout_s above 100000 s" beside a 86400-s cap on it
        ({"p95_ms": 1e8, "rate_hz": 1}, ["p95_ms=100000000.0 is 27.8 hours, past the 86400-s horizon any request "
                                         "may run"]),
    ],
)
def test_bad_marker_arguments_name_the_argument_the_value_and_the_fix(
    kwargs: dict[str, object], fragments: list[str]
) -> None:
    """Every rejected argument names itself, its value and the test."""
    with pytest.raises(InvalidArgument) as info:
        check(**kwargs)

    message = str(info.value)
    assert message.startswith(WHERE)
    for fragment in fragments:
        assert fragment in message


def test_numpy_scalars_are_numbers() -> None:
    """review95 #7: p95_ms=np.float32(40) read "must be a finite number"."""
    import numpy as np

    assert check(p95_ms=np.float32(40), streams=np.int64(4), rate_hz=np.float64(100)) == {
        "p95_ms": 40.0, "streams": 4, "rate_hz": 100.0}
    with pytest.raises(InvalidArgument, match="streams=2.5 must be a whole number"):
        check(streams=np.float32(2.5), rate_hz=1)


def test_positional_arguments_are_refused() -> None:
    """The marker takes keywords only."""
    with pytest.raises(InvalidArgument, match="keyword arguments only"):
        validate_marker((40,), {}, WHERE)


def test_rate_is_required_at_resolve() -> None:
    """rate_hz has no sensible default: the message says so and gives an example."""
    with pytest.raises(InvalidArgument, match="the slo marker needs rate_hz"):
        resolve(check(p95_ms=4), nodeid=WHERE)
    # slo_run's arguments are no marker (review126)
    with pytest.raises(InvalidArgument, match=": slo_run needs rate_hz, the offered load"):
        resolve(check(p95_ms=4), nodeid=WHERE, given_in="slo_run")


def test_default_request_count_suits_the_tightest_percentile() -> None:
    """With no duration, enough requests for 8 sectioning batches of the tightest percentile."""
    p95 = resolve(check(p95_ms=4, rate_hz=100), nodeid=WHERE)
    p99 = resolve(check(p95_ms=4, p99_ms=9, rate_hz=100), nodeid=WHERE)

    assert (4000, "default") == (p95.requests, p95.sources["requests"])
    assert 20000 == p99.requests
    assert 200 == p95.warmup_requests


@pytest.mark.parametrize(
    ("ini", "cli", "marker", "expected"),
    [
        ({}, {}, {}, (seed_from_nodeid(WHERE), "node id")),
        ({"seed": 1}, {}, {}, (1, "ini")),
        ({"seed": 1}, {"seed": 2}, {}, (2, "CLI")),
        ({"seed": 1}, {"seed": 2}, {"seed": 3}, (3, "marker")),
        ({}, {"seed": None}, {}, (seed_from_nodeid(WHERE), "node id")),
    ],
)
def test_measurement_precedence_default_ini_cli_marker(
    ini: dict[str, object], cli: dict[str, object], marker: dict[str, object], expected: tuple[int, str]
) -> None:
    """Most specific wins, and the source is recorded."""
    spec = resolve(check(rate_hz=10, p95_ms=5, **marker), nodeid=WHERE, ini=ini, cli=cli)

    assert expected == (spec.seed, spec.sources["seed"])


def test_cli_duration_applies_only_when_marker_sets_no_size() -> None:
    """A marker's requests beats --gpuslo-duration; without it the CLI duration is used."""
    with_marker = resolve(check(rate_hz=10, requests=50), nodeid=WHERE, cli={"duration_s": 3.0})
    without = resolve(check(rate_hz=10), nodeid=WHERE, cli={"duration_s": 3.0})

    assert (50, None) == (with_marker.requests, with_marker.duration_s)
    assert (None, 3.0, "CLI") == (without.requests, without.duration_s, without.sources["duration_s"])


def test_seed_from_node_id_is_stable_across_processes() -> None:
    """A digest, not hash(): the same number on every machine (pinned value)."""
    assert 2755192981 == seed_from_nodeid("test_smoke.py::test_fast")


def test_a_duration_that_holds_no_request_is_refused() -> None:
    """review63: duration_s=1e-9 at 100/s measured nothing and passed with a warning, where
    requests=0 is refused."""
    with pytest.raises(InvalidArgument) as info:
        resolve(check(p95_ms=10, rate_hz=100, duration_s=1e-9), nodeid=WHERE)

    message = str(info.value)
    assert message.startswith(WHERE) and "duration_s=1e-09 (marker)" in message and "0.01 s" in message
    assert resolve(check(p95_ms=10, rate_hz=100, duration_s=0.5), nodeid=WHERE).duration_s == 0.5
    # review164 F8: named duration_s, which the marker did not hold, and advised requests=N, which
    # max_duration_s refuses beside it
    with pytest.raises(InvalidArgument) as looks:
        resolve(check(p95_ms=10, rate_hz=100, max_duration_s=0.001), nodeid=WHERE)
    said = str(looks.value)
    assert "max_duration_s=0.001 (marker)" in said and "Give a max_duration_s of at least" in said
    assert "duration_s=0.001" not in said.replace("max_duration_s", "") and "requests=N" not in said
    # review166 F12: a too-short --gpuslo-duration (or the ini's) asked for the marker's duration_s
    for layer, fix in (("cli", "Give a --gpuslo-duration of at least"), ("ini", "Give a gpuslo_duration_s in the ini "
                                                                              "of at least")):
        with pytest.raises(InvalidArgument) as given:
            resolve(check(p95_ms=10, rate_hz=500), nodeid=WHERE, **{layer: {"duration_s": 0.0001}})
        assert fix in str(given.value) and "or requests=N in the marker" in str(given.value), str(given.value)


@pytest.mark.parametrize(("marker", "cli", "fragments"), [
    ({"p95_ms": 50, "rate_hz": 200, "requests": 1500}, {},
     ["requests=1500 (marker) is too few for a p95 PASS", "at least 4,000 requests", "raise requests to 4000"]),
    ({"p95_ms": 50, "p99_ms": 90, "rate_hz": 200, "requests": 5000}, {},
     ["too few for a p99 PASS", "at least 20,000"]),
    ({"p99_ms": 50, "rate_hz": 200, "duration_s": 10}, {},
     ["duration_s=10 (marker) at rate_hz=200 schedules about 2,000 requests", "raise duration_s to 100 s"]),
    ({"p95_ms": 50, "rate_hz": 500, "max_duration_s": 4}, {}, ["max_duration_s=4 (marker)", "to 8 s or more"]),
    ({"p95_ms": 50, "rate_hz": 100}, {"duration_s": 5.0}, ["duration_s=5 (CLI)", "about 500 requests"]),
])
def test_a_size_that_can_never_pass_is_named_before_the_run(
        marker: dict[str, object], cli: dict[str, object], fragments: list[str]) -> None:
    """Fewer requests than sectioning's 8 batches of 25 exceedances: no PASS is possible, said up
    front with the setting to raise (review78 #9)."""
    note = pass_floor(resolve(marker, nodeid=WHERE, cli=cli))
    assert note is not None
    for fragment in fragments:
        assert fragment in note


@pytest.mark.parametrize("marker", [
    {"p95_ms": 50, "rate_hz": 200},  # the default size is the floor itself
    {"p95_ms": 50, "rate_hz": 200, "requests": 4000},
    {"p50_ms": 50, "rate_hz": 200, "requests": 400},
    {"p95_ms": 50, "rate_hz": 400, "duration_s": 10},
    {"throughput_hz": 50, "rate_hz": 200, "requests": 10},  # no budget to PASS
])
def test_a_size_that_can_pass_gets_no_note(marker: dict[str, object]) -> None:
    assert pass_floor(resolve(marker, nodeid=WHERE)) is None


def test_the_floor_is_the_sectioning_minimum() -> None:
    """The note's count and the gate's batch rule are one number: at the floor sectioning has its
    8 batches, one request fewer it has none (stats.n_batches)."""
    from pytest_gpuslo import stats
    from pytest_gpuslo.spec import DEFAULT_EXCEEDANCES

    for p, floor in ((0.5, 400), (0.95, 4000), (0.99, 20000), (0.999, 200000)):
        assert DEFAULT_EXCEEDANCES / (1 - p) == pytest.approx(floor)
        assert stats.n_batches(floor, p) == stats.K_MIN
        assert stats.n_batches(floor - 1, p) == 0


def test_the_inconclusive_policy_is_read_whatever_its_case() -> None:
    """review89 #8: --gpuslo-inconclusive=FAIL was refused."""
    import argparse

    from pytest_gpuslo.options import parse_inconclusive

    assert parse_inconclusive("FAIL") == "fail" and parse_inconclusive(" Warn ") == "warn"
    with pytest.raises(argparse.ArgumentTypeError, match="'maybe' is not 'warn' or 'fail'"):
        parse_inconclusive("maybe")


def test_load_changes_name_what_changed_and_skip_an_address() -> None:
    """What makes a stored baseline or an A/B side another load, in the words the verdict uses;
    an arrival object's default repr (its address, new every run) is no change."""
    from pytest_gpuslo.spec import load_changes

    old = {"rate_hz": 500.0, "streams": 2, "arrivals": "<my.Proc object at 0x7f00aa>", "p95": 20}
    new = {"rate_hz": 400.0, "streams": 2, "arrivals": "<my.Proc object at 0x7f11bb>", "p95": 25}
    assert load_changes(old, new) == ("rate_hz 500 -> 400",)
    assert load_changes({**old, "arrivals": "poisson"}, {**new, "arrivals": "mmpp"})[-1] == "arrivals 'poisson' -> 'mmpp'"
