"""Recorded traffic as an arrival process, and ``describe`` for turning a trace into a test.

Layer 1 (numpy only).  A trace file holds arrival timestamps or inter-arrival times, one number
per line (CSV: the first column, or one named in its header line, whose unit suffix such as
``timestamp_ms`` is the file's unit; one header line without digits is allowed), a JSON list (or an
object with "timestamps" or "intervals"), or a 1-D ``.npy`` array.  Every bad input names the file,
the line and the fix, as ``InvalidArgument``: only a regular file is read, at most
``limits.MAX_TRACE_BYTES``, and one with more lines or values than the limits is refused before it is
parsed (docs/limits.md).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Final

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import limits
from pytest_gpuslo.arrivals.processes import (
    MMPP2,
    Constant,
    Gamma,
    Pareto,
    Poisson,
    Process,
    _check_rate,
    to_ns,
)
from pytest_gpuslo.errors import InvalidArgument, dangling

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
KINDS = ("timestamps", "intervals")
#: Timestamps that are this many consecutive whole numbers or more are a row index.
ROW_INDEX_MIN = 10
#: A recorded trace longer than this (about 30 years) is in the wrong unit.
MAX_SPAN_S = 1e9


#: A CSV header's unit, by suffix (``timestamp_ms``, ``t [us]``, ``gap (s)``, ``t/ms``, ``time_seconds``),
#: each spelling with the unit it is; minutes, hours and picoseconds, which a trace is not read in,
#: are named as such so that they are refused rather than read as seconds (review125 N5: ``t_min``
#: read 60x too fast), and so is ``m`` (minutes or metres: review126 F-T1).  Names are NFKC-normalised
#: first, which makes the micro sign U+00B5 the Greek mu U+03BC (review127 N4).
_UNIT_WORDS = {**dict.fromkeys(("ms", "msec", "msecs", "millis", "millisec", "millisecond", "milliseconds"), "ms"),
               **dict.fromkeys(("us", "\u03bcs", "usec", "usecs", "\u03bcsec", "micros", "microsec", "microsecond",
                                "microseconds"), "us"),
               **dict.fromkeys(("ns", "nsec", "nsecs", "nanos", "nanosec", "nanosecond", "nanoseconds"), "ns"),
               **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
               **dict.fromkeys(("ps", "psec", "picoseconds"), "ps"),
               **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"), "m": "m",
               **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"), "day": "day", "days": "day"}
_UNIT_ALT = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
#: A scale marked as one in brackets: "x10", "×1000", "*10", "10x", "1e-3" (a bare "2025" is a remark).
_SCALE = r"[x\u00d7*]\s*\d[\d.e-]*|\d[\d.]*\s*[x\u00d7]|\d[\d.]*e-?\d+"
_HEADER_UNIT = re.compile(r"(?:^|[-_/\s(\[])(" + _UNIT_ALT + r")[)\]]?$")
#: Beyond the suffix, a unit word in brackets or quotes names the unit (``t (ms since start)``, review126
#: F-T2), and so does a spelling of at least this many letters anywhere (``elapsed_milliseconds_total``);
#: a short one outside brackets does not (``us_east_time`` is a region, ``ns_lookup_time`` a DNS step:
#: review127 N1).
_LONG_UNIT = 4
#: Words that name a time unit whatever else they could be: a header holding one beside a different
#: unit it is read in names two (``t_sec_ms``, ``hours_ms``; review127 N2).  Not ``us``, ``m``, ``h``,
#: ``s``, ``min`` or ``second`` (``us_east_time_ms``, ``min_latency_ms`` name one unit).
_SURE = frozenset(w for w in _UNIT_WORDS if w not in ("us", "m", "h", "s", "min", "second", "day"))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z\u03bc]+", text)


def header_unit(name: str) -> str | None:
    """The unit a CSV header cell names: by its suffix (``min``, ``h`` or ``day`` too, which no
    trace is read in), else by a unit word in brackets or a long one anywhere; "ms or us" where it
    names several; None where it names none."""
    text = unicodedata.normalize("NFKC", name).strip()
    text = re.sub(r"\.\d+$", "", text)  # pandas' second "t_ms" column is "t_ms.1" (review128 N3)
    low = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).lower()  # camelCase: "timestampMs" (review128 N3)
    # "t [1 ms]" is in ms: a scale of one is no scale (review130 N4: refused as the unit "1 ms")
    low = re.sub(r"(?<![a-z\d.])1[\s_-]*(?=(" + _UNIT_ALT + r")(?![a-z]))", "", low)
    glued = re.search(r"(?<![a-z\d.])(\d+(?:\.\d+)?(?:e-?\d+)?)[\s_-]*(" + _UNIT_ALT + r")(?![a-z])", low)
    if glued:
        # a scaled suffix ("t_10ms", "time_100us", "t/10ms", "t_10_ms") was read as seconds or as
        # the bare unit, 10x off (review130 N3, review132 D4): named whole, and refused
        return glued.group(0).strip()
    remark = (re.search(r"[(\[]\s*(" + _SCALE + r")\s*[)\]]", low)
              or re.search(r"(?<=[a-z])[\s_-]+([x\u00d7*]\s*\d[\d.]*|\d[\d.]*x)$", low))
    if remark:
        # "t [ms] (x10)", "t_ms_x10": a one-word scale beside the unit was dropped, 10x off
        # (review130 N4, review132 D4); one of 1 ("t_ms (1x)") scales nothing
        named = header_unit(text[: remark.start()] + text[remark.end():])
        if float(re.sub(r"[^\d.e-]", "", remark.group(1)).strip(".-e") or 1) == 1:
            return named
        if named:
            return f"{named} {remark.group(0).strip(' _-')}"
    # a trailing remark in brackets that names no unit is no suffix: "t_ms (v2)" read as seconds,
    # "t_ms (2025)" refused as a scale (review132 D4)
    while (tail := re.search(r"\s*[(\[]([^)\]]*)[)\]]\s*$", low)) and low[: tail.start()].strip() \
            and not any(w in _UNIT_WORDS for w in _words(tail.group(1))):
        low = low[: tail.start()]
    scaled = re.search(r"[(\[]([^)\]]*)[)\]]$", low)
    if scaled and re.search(r"[\d/]", scaled.group(1)) and any(w in _UNIT_WORDS for w in _words(scaled.group(1))):
        # a scaled unit ("ticks [100ns]", "t [s/1000]") read as its unit word was 100x or 1000x off
        # (review129 F8): named whole, so that it is refused as no unit a trace is read in
        return scaled.group(1).strip()
    # a trailing remark of several words in brackets or quotes is no unit suffix: "t_ms (second
    # pass)" is in ms (review128 N2: read as seconds, and --unit ms refused)
    bare = re.sub(r"(\s*([(\[][^)\]]*\s[^)\]]*[)\]]|\"[^\"]*\s[^\"]*\"))+$", "", low) or low
    match = _HEADER_UNIT.search(bare)
    groups = re.findall(r"[(\[]([^)\]]*)[)\]]|\"([^\"]*)\"", low)
    bracketed = [w for group in groups for w in _words(" ".join(group))]
    if match:
        unit = _UNIT_WORDS[match.group(1)]
        rest = _words(bare[: match.start(1)]) + [w for w in bracketed if w not in ("second", "seconds")]
        others = sorted({_UNIT_WORDS[w] for w in rest if w in _SURE} - {unit})
        return unit if not others else " or ".join(sorted({unit, *others}))
    long = [w for w in _words(low) if len(w) >= _LONG_UNIT and w != "second"]
    found = sorted({_UNIT_WORDS[w] for w in bracketed + long if w in _UNIT_WORDS})
    return " or ".join(found) if found else None


def unit_word(word: str) -> str:
    """A unit as a JSON trace's "unit" or a header may spell it (``milliseconds``: review127 N6),
    as one of ``UNITS`` where it is one, else as given."""
    return _UNIT_WORDS.get(unicodedata.normalize("NFKC", word).strip().lower(), word)


def _bad(path: str, what: str, fix: str, line: int | None = None) -> InvalidArgument:
    where = f"{path}, line {line}" if line is not None else path
    return InvalidArgument(f"trace {where}: {what}; {fix}")


def _read_text_values(path: str, data: bytes, column: int | str) -> tuple[
        npt.NDArray[np.float64], array[int], list[str] | None]:
    """The numbers of one column (a 0-based number, or a name in the header line), the line of
    each, and the header's cells (None where the file has no header line)."""
    # universal newlines, as the reader below splits: \n, \r\n and a lone \r (review120: a file of
    # \r-ended lines passed a count of \n only, and was parsed whole before the value count refused it)
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    lines_total = breaks + (0 if data.endswith((b"\n", b"\r")) else 1)
    if lines_total > limits.MAX_TRACE_LINES:
        raise _bad(path, f"has {lines_total:,} lines, over the {limits.MAX_TRACE_LINES:,}-line limit",
                   "cut it into a shorter window")
    if len(data) > lines_total * (limits.MAX_TRACE_LINE_CHARS + 2):
        # some line is longer than the limit (their mean is): refused before any line is decoded
        raise _bad(path, f"has {lines_total:,} line(s) in {len(data):,} bytes, so one is over the "
                   f"{limits.MAX_TRACE_LINE_CHARS:,}-character limit", "write one arrival per line (a JSON list "
                   "for values on one line)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        # review127 N12: Excel's "Unicode text" read "'\x001\x008...' is not a number" on line 2
        raise _bad(path, "is UTF-16 (or holds NUL bytes), as a spreadsheet's \"Unicode text\" export is",
                   "save it as CSV in UTF-8")
    # array('d') keeps 8 bytes a value (a list of floats takes 32).
    values: array[float] = array("d")
    lines: array[int] = array("q")
    header: list[str] | None = None
    col = column if isinstance(column, int) else -1  # a name: its index, once the header is read
    # utf-8-sig: a spreadsheet's CSV starts with a byte-order mark (review117: "'\ufeff1' is not a number")
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline=None)
    for lineno, raw in enumerate(text, start=1):
        if len(raw) > limits.MAX_TRACE_LINE_CHARS:
            raise _bad(path, f"has a line of {len(raw):,} characters, over the {limits.MAX_TRACE_LINE_CHARS:,}-character "
                       f"limit", "write one arrival per line (a JSON list for values on one line)", lineno)
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not values and header is None and re.fullmatch(r"sep=.", line):
            continue  # a spreadsheet's separator line (review126 F-T4): the cells say theirs
        cells = _cells(line)
        # a header: a line of words before the numbers, or the line that holds the column's name
        # (a name may have digits: "t1_ms"), or a first line whose column holds a word with digits
        # ("t_ms_2024", review126 F-T4)
        named = isinstance(column, str) and header is None and column in cells
        worded = (header is None and isinstance(column, int) and column < len(cells)
                  and not _number(cells[column]) and any(ch.isalpha() for ch in cells[column]))
        if not values and (named or worded or not any(ch.isdigit() for ch in line) and (
                isinstance(column, str) or column >= len(cells) or not _number(cells[column]))):
            if header is not None:
                continue  # a line of words before the numbers, as before
            header = cells  # the header line
            if isinstance(column, str):
                if column not in cells:
                    garbled = (" (the file is not UTF-8: save it as UTF-8)" if any("\ufffd" in c for c in cells)
                               else "")
                    raise _bad(path, f"has no column named {column!r} (its header's names: "
                               f"{', '.join(repr(c) for c in cells)}){garbled}",
                               "set column= to one of them, or to a 0-based number", lineno)
                col = cells.index(column)
            continue
        if col < 0:
            raise _bad(path, f"has no header line naming a column {column!r} (its first line of numbers: "
                       f"{', '.join(c[:20] for c in cells[:8])})", "set column= to a 0-based number", lineno)
        if col >= len(cells):
            raise _bad(path, f"has no column {col} ({len(cells)} found)", "set column= to an existing one", lineno)
        cell = cells[col]
        try:
            values.append(float(cell))
        except ValueError:
            # a date and time on every line (review129 F4: "remove the line" for each of them)
            fix = CLOCK_FIX if _clock(cell) else "remove the line or fix the value"
            raise _bad(path, f"{cell[:40]!r} is not a number", fix, lineno) from None
        lines.append(lineno)
    if col < 0:  # a name, and no line to find it in
        raise _bad(path, f"holds no header line, so column={column!r} names no column", "set column= to a "
                   "0-based number")
    return np.frombuffer(values, dtype=np.float64).copy(), lines, header


#: The fix for a trace of dates or times of day, which is read as numbers only.
CLOCK_FIX = ("write the times as numbers: seconds since the first arrival (pandas: "
             "(t - t.iloc[0]).dt.total_seconds()), or epoch seconds")


def _clock(text: str) -> bool:
    """A date or a time of day, in any of the common spellings (ISO's extended and basic forms, a
    time of day alone, 05/12/2025): a trace of them is refused with how to convert it, not told to
    remove each line (review129 F4, review130 N5)."""
    cell = text.strip().strip('"')
    return bool(re.search(r"\d{1,2}:\d\d(:\d\d)?", cell) or re.fullmatch(r"\d{8}T\d{4,6}(\.\d+)?(Z|[+-]\d{4})?", cell)
                or re.match(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b", cell))


def _cells(line: str) -> list[str]:
    """A line's cells, split at commas, semicolons or tabs; a line with quotes is read as CSV
    (review125 N5: the header cell "t, [ms]" was cut at its comma), split at the first of those
    found outside its quotes."""
    if '"' not in line:
        return [c.strip() for c in line.replace(";", ",").replace("\t", ",").split(",")]
    bare = re.sub(r'"[^"]*"', "", line)
    delimiter = next((d for d in (",", ";", "\t") if d in bare), ",")
    row = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    return [c.strip() for c in row]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_json_values(path: str, data: bytes) -> tuple[npt.NDArray[np.float64], str | None, str | None]:
    # A JSON list of N numbers holds N - 1 commas: more commas than the limit is too many values.
    if data.count(b",") > limits.MAX_TRACE_VALUES + 16:
        raise _bad(path, f"holds more than {limits.MAX_TRACE_VALUES:,} values", "use a shorter window")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _bad(path, f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _bad(path, f"is not valid JSON ({exc.msg})", "fix the file", exc.lineno) from None
    except RecursionError:
        raise _bad(path, "nests too deep to be a trace", "write a flat JSON list of numbers") from None
    except ValueError as exc:  # an integer literal of more than 4,300 digits
        raise _bad(path, f"is not valid JSON ({exc})", "fix the file") from None
    kind = unit = None
    if isinstance(doc, dict):
        unknown = sorted(str(k) for k in doc if k not in ("unit", *KINDS))
        if unknown:
            # review200 F5: a misspelt "unti": "ms" was ignored and the stamps read as seconds
            import difflib

            near = [m for k in unknown for m in difflib.get_close_matches(k, ["unit", *KINDS], n=1)]
            raise _bad(path, f"holds keys a trace does not take: {', '.join(map(repr, unknown[:5]))}"
                             + (f" (did you mean {near[0]!r}?)" if near else ""),
                       "keep only \"unit\" and one of \"timestamps\" or \"intervals\"")
        unit = doc.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise _bad(path, f"\"unit\" is {unit!r}, not a string", f"use one of {', '.join(UNITS)}")
        if all(k in doc for k in KINDS):  # review121: read as the first without a word
            raise _bad(path, "holds both \"timestamps\" and \"intervals\"", "keep one of them")
        for k in KINDS:
            if k in doc:
                kind, doc = k, doc[k]
                break
        else:
            raise _bad(path, "is a JSON object without \"timestamps\" or \"intervals\"", "add one of them")
    if not isinstance(doc, list):
        raise _bad(path, "must hold a JSON list of numbers", "write e.g. [0.0, 0.013, 0.021]")
    for i, v in enumerate(doc):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            clock = isinstance(v, str) and _clock(v)  # (review130 N5: "fix that item" of a list of dates)
            raise _bad(path, f"item {i} is {_short(v)}, not a number", CLOCK_FIX if clock else "fix that item")
    try:
        return np.asarray(doc, dtype=np.float64), kind, unit
    except OverflowError:  # an integer beyond float64
        raise _bad(path, "holds a number too large for a time", "fix that item") from None


def _read_npy(path: str, data: bytes) -> npt.NDArray[np.float64]:
    fail = "save it with numpy.save"
    try:
        buf = io.BytesIO(data)
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(buf)
        else:
            raise ValueError(f".npy format {version[0]}.{version[1]} holds no plain numeric array")
        if len(shape) != 1 or not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating):
            raise _bad(path, f"holds a {len(shape)}-D {dtype} array", "save a 1-D real numeric array")
        if shape[0] > limits.MAX_TRACE_VALUES:
            raise _bad(path, f"holds {shape[0]:,} values, over {limits.MAX_TRACE_VALUES:,}", "use a shorter window")
        arr = np.load(io.BytesIO(data), allow_pickle=False)
        return np.asarray(arr, dtype=np.float64)
    except InvalidArgument:
        raise
    except (ValueError, OSError, EOFError, TypeError, SyntaxError, OverflowError) as exc:
        raise _bad(path, f"is not a readable .npy array ({_short(exc)})", fail) from None


def _short(value: Any, width: int = 60) -> str:
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@lru_cache(maxsize=2)
def _parsed(path: str, mtime: float, suffix: str, column: int | str) -> tuple[
        npt.NDArray[np.float64], array[int] | None, str | None, str | None, str]:
    """The file's numbers as written, the line of each (text files), the kind and unit the file
    names for itself (a JSON file's keys; a CSV header's unit suffix, e.g. ``timestamp_ms``), and
    where it names the unit, in words: read and parsed once per file version, for ``_load`` and
    for ``describe``, which says what the file names for itself (it read a JSON trace twice)."""
    data = limits.read_capped(path, limits.MAX_TRACE_BYTES,  # a fix for what it is (review116)
                              lambda what: _bad(path, what, "give a regular file of a shorter window" if "limit" in what
                                                else "give the path of a trace file on disk"))
    lines: array[int] | None = None
    kind = unit = None
    named = ""
    if suffix == ".npy":
        values = _read_npy(path, data)
    elif suffix == ".json":
        values, kind, unit = _read_json_values(path, data)
        unit = unit_word(unit) if unit is not None else None
        named = "the file's \"unit\"" if unit is not None else ""
    else:
        values, lines, header = _read_text_values(path, data, column)
        # review121: a header's unit gave way to the default (the marker) or to --unit (the CLI)
        at = (column if isinstance(column, int) else header.index(column)) if header else -1
        unit = header_unit(header[at]) if header and at < len(header) else None
        if header and at < len(header) and not header[at]:
            # pandas writes its unnamed index first (review127 N3: read as 1 arrival a second)
            raise _bad(path, f"its column {at} has no name in the header (a row index, as pandas writes "
                       f"first?; the header's names: {', '.join(repr(c) for c in header)})",
                       "set column= to the arrival times' column")
        if header and len(header) > 1 and unit is None and values.size >= ROW_INDEX_MIN and values[0] in (0.0, 1.0) \
                and np.array_equal(values, values[0] + np.arange(values.size)):
            # a row number beside other columns (Wireshark's "No."), replayed as perfectly even
            # arrivals that flatter a tail (review127 N3); not a column whose name gives a unit, nor
            # the only column, nor one that starts elsewhere (review128 N5: a paced trace refused)
            raise _bad(path, f"its column {header[at]!r} holds the row numbers {values[0]:g} to {values[-1]:g}: a "
                       f"row index, not arrival times (the header's names: {', '.join(repr(c) for c in header)})",
                       "set column= to the arrival times' column")
        if header and at < len(header) and "\ufffd" in header[at]:
            # its unit may be in what could not be read (review126 F-T3: a latin-1 't_µs' read as s)
            raise _bad(path, f"its header cell {header[at]!r} holds bytes that are not UTF-8", "save the file "
                       "as UTF-8")
        named = f"the header {header[at]!r}" if unit and header else ""
    values.flags.writeable = False  # shared by the cache: what reads it makes its own copy
    return values, lines, kind, unit, named


#: Epoch stamps of the years 2000 to 2100, in seconds: a stamp this large in ms, us or ns names
#: its unit by its size (JMeter's ``timeStamp`` is epoch ms: review129 F3 read it as 0.3 arrivals/s).
EPOCH_S: Final = (946_684_800.0, 4_102_444_800.0)
#: ... where they arrive at least this often, read in that unit: a monotonic clock's ns are dates
#: in us after 11 to 47 days of uptime, 1,000 times too slow (review132 D1: 306/s read 0.31/s).
EPOCH_MIN_RATE_HZ: Final = 1.0


def epoch_unit(values: npt.NDArray[np.float64], kind: str) -> str | None:
    """The unit a file of timestamps that names none must be in for its first stamp to be a date
    from 2000 to 2100 (a later unit than seconds), or None: 1.7e12 "seconds" is no time of day."""
    if kind != "timestamps" or not values.size or not np.isfinite(values[0]):
        return None
    for name in ("ms", "us", "ns"):
        if EPOCH_S[0] <= values[0] * UNITS[name] < EPOCH_S[1]:
            # and at a rate a load test replays: a monotonic clock's ns some minutes after boot are
            # dates too in ms, 0.0003 arrivals a second (review131 F5)
            span = (values[-1] - values[0]) * UNITS[name]
            return name if values.size > 1 and span > 0 and (values.size - 1) / span >= EPOCH_MIN_RATE_HZ else None
    return None


@lru_cache(maxsize=16)
def _load(path: str, mtime: float, kind: str | None, unit: str | None, column: int | str) -> npt.NDArray[np.float64]:
    """Arrival times in seconds from 0, validated (cached per file version).  ``kind``/``unit``
    None: not given, so what the file names for itself, else timestamps in seconds."""
    if unit is not None and unit not in UNITS:
        raise _bad(path, f"unit {unit!r} is unknown", f"use one of {', '.join(UNITS)}")
    if kind is not None and kind not in KINDS:
        raise _bad(path, f"kind {kind!r} is unknown", f"use one of {', '.join(KINDS)}")
    if isinstance(column, bool) or not isinstance(column, (int, str)) or (
            column < 0 if isinstance(column, int) else not column.strip()):
        raise _bad(path, f"column={column!r} is not a column number or name", "give a whole number >= 0, or a "
                   "name in the file's header line")
    suffix = os.path.splitext(path)[1].lower()  # review120: t.NPY was read as text
    if column != 0 and suffix in (".npy", ".json"):
        # review117 F14: column=2 on a .npy trace was ignored without a word
        raise _bad(path, f"column={column} picks a column of a CSV or text trace, and a {suffix} trace "
                   f"holds one series", "leave column out")
    values, lines, jkind, junit, named = _parsed(path, mtime, suffix, column)
    # The file's own "unit" and "timestamps"/"intervals" key (JSON), or its header's unit (CSV),
    # win over the defaults; one given otherwise and contradicting the file is refused (review120:
    # dropped without a word; review121: a CSV header's "_ms" gave way to unit='s')
    # (review125 N4: unit='s' and kind='timestamps' given were the defaults, and gave way)
    if jkind is not None and kind is not None and jkind != kind:
        raise _bad(path, f"holds \"{jkind}\", and kind={kind!r} was given", "leave kind out, or make them agree")
    kind = jkind or kind or KINDS[0]
    if junit is not None:
        if " or " in junit:
            raise _bad(path, f"names more than one unit in {named} ({junit})", "name the column with one of "
                       f"{', '.join(UNITS)} (e.g. 'time_ms'), or rename it and give unit=")
        if junit not in UNITS and suffix != ".json":
            raise _bad(path, f"names its unit \"{junit}\" in {named}, which a trace is not read in",
                       f"write the column in one of {', '.join(UNITS)} and name it so (e.g. 'time_s')")
        if junit not in UNITS:
            raise _bad(path, f"unit {junit!r} is unknown", f"use one of {', '.join(UNITS)}")
        if unit is not None and junit != unit:
            said = f" in {named}" if suffix != ".json" else ""  # (a JSON file's is its "unit" key)
            # (review128 N4: nginx's $msec holds seconds; what the header says is what is read)
            fix = "leave unit out, or make them agree" + (
                f" (if the header is wrong, as nginx's 'msec' holds seconds, rename the column to one naming "
                f"{unit}, e.g. 'time_{unit}')" if suffix != ".json" else "")
            raise _bad(path, f"names its unit \"{junit}\"{said}, and unit={unit!r} was given", fix)
        unit = junit
    unit = unit or epoch_unit(values, kind) or "s"

    def line_of(i: int) -> int | None:
        return lines[i] if lines is not None else None

    if values.size == 0:
        raise _bad(path, "holds no values", "record at least two arrivals")
    if values.size > limits.MAX_TRACE_VALUES:
        raise _bad(path, f"holds {values.size:,} values, over {limits.MAX_TRACE_VALUES:,}", "use a shorter window")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise _bad(path, f"value {float(values[bad[0]])!r} is not finite", "remove NaN/inf entries", line_of(int(bad[0])))
    neg = np.flatnonzero(values < 0)
    if neg.size:
        raise _bad(path, f"value {float(values[neg[0]])!r} is negative", "times and gaps must be >= 0", line_of(int(neg[0])))
    values = values * UNITS[unit]
    if kind == "timestamps":
        down = np.flatnonzero(np.diff(values) < 0)
        if down.size:
            i = int(down[0]) + 1
            raise _bad(path, f"timestamps go backwards ({float(values[i - 1] / UNITS[unit])!r} then "
                       f"{float(values[i] / UNITS[unit])!r})", "sort the file, or pass kind='intervals' if "
                       "it holds gaps", line_of(i))
        times = values - values[0]
    else:
        # n gaps are the gaps between n + 1 arrivals, the first at 0 (review128 N7: 500 gaps of
        # 1 ms read 998 arrivals a second, the first arrival one gap after the schedule's start)
        with np.errstate(over="ignore"):  # an overflow to inf is refused just below
            times = np.concatenate([[0.0], np.cumsum(values)])
    if times.size < 2 or times[-1] <= 0:
        raise _bad(path, "spans no time", "record at least two arrivals at different times")
    if not 1e-9 <= times[-1] <= MAX_SPAN_S:
        raise _bad(path, f"spans {float(times[-1]):.3g} s, outside 1 ns to {MAX_SPAN_S:.0e} s",
                   f"check unit= (the file is read in {unit!r})")
    return times


@dataclass(frozen=True, slots=True)
class Trace(Process):
    """Replay recorded arrivals, rescaled to ``rate_hz`` (None keeps the recorded rate).

    ``loop`` repeats the trace to fill the requested size; ``loop=False`` truncates at its end.
    The first arrival is at offset 0; with ``rate_hz=None`` and no looping the schedule equals
    the recorded times exactly (to the nanosecond).
    """

    path: str
    rate_hz: float | None = None
    #: None: what the file names for itself (a JSON "unit", a CSV header such as timestamp_ms),
    #: else seconds; one given that contradicts the file is refused
    unit: str | None = None
    #: None: what a JSON file's key names, else "timestamps"
    kind: str | None = None
    loop: bool = True
    #: a 0-based column number, or a name in the CSV's header line
    column: int | str = 0
    name: ClassVar[str] = "trace"

    def __post_init__(self) -> None:
        if self.rate_hz is not None:
            _check_rate(self.rate_hz, "trace")
        if not isinstance(self.path, (str, os.PathLike)) or not str(self.path) or "\0" in str(self.path):
            # (review200 F3: a NUL read "checking the slo marker raised ValueError: embedded null byte")
            raise InvalidArgument(f"trace: path={self.path!r} is not a file name; give a path such as "
                                  f"'traces/prod.csv'.")
        for name, value, choices in (("unit", self.unit, UNITS), ("kind", self.kind, KINDS)):
            if value is not None and (not isinstance(value, str) or value not in choices):
                raise InvalidArgument(f"trace {self.path}: {name} {value!r} is unknown; use one of "
                                      f"{', '.join(choices)}.")
        if not isinstance(self.loop, bool):
            raise InvalidArgument(f"trace {self.path}: loop={self.loop!r} must be True or False.")
        if isinstance(self.column, bool) or not isinstance(self.column, (int, str)) or (
                self.column < 0 if isinstance(self.column, int) else not self.column.strip()):
            raise InvalidArgument(f"trace {self.path}: column={self.column!r} must be a whole number >= 0, or a "
                                  f"name in the file's header line.")
        if not os.path.exists(self.path):
            link = dangling(self.path)  # a link to nothing, or one looping back on itself (review117 F5)
            raise InvalidArgument(f"trace {self.path}: {f'is {link}; mend it or' if link else 'no such file;'} give "
                                  f"a path relative to the directory pytest runs in, or an absolute one.")
        self.times()  # validate now: bad files fail at collection

    def times(self) -> npt.NDArray[np.float64]:
        return _load(str(self.path), os.path.getmtime(self.path), self.kind, self.unit, self.column)

    @property
    def caution(self) -> str | None:
        """Why a test replaying this trace may not offer the recorded traffic, or None: rounded
        stamps replay as bursts released at once (review129 F2: whole-second stamps FAILed a
        2 ms body at p95 79 ms, and only ``arrivals describe`` said why)."""
        note = rounded(self.times())
        if note is None:
            return None
        return (f"trace {self.path}: {note}; replayed, each stamp's arrivals are released at once, in bursts "
                f"the recorded traffic may not have had; record finer stamps, or give arrivals= the "
                f"process that stands for the traffic (gpuslo arrivals describe)")

    @property
    def native_rate_hz(self) -> float:
        t = self.times()
        return float(t.size / period(t))

    @property
    def mean_rate_hz(self) -> float:
        return float(self.rate_hz) if self.rate_hz is not None else self.native_rate_hz

    def _scaled(self) -> tuple[npt.NDArray[np.float64], float]:
        t = self.times()
        scale = self.native_rate_hz / self.rate_hz if self.rate_hz is not None else 1.0
        return t * scale, period(t) * scale

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        t, period = self._scaled()
        if n is not None:
            reps = math.ceil(n / t.size) if self.loop else 1
            out = (t[None, :] + period * np.arange(reps)[:, None]).ravel()[: int(n)]
        else:
            assert duration_s is not None
            reps = max(1, math.ceil(duration_s / period)) if self.loop else 1
            out = (t[None, :] + period * np.arange(reps)[:, None]).ravel()
            out = out[out < duration_s]
        return to_ns(out)


#: A trace whose arrivals repeat the stamp before this often is called rounded (review128 N6),
#: where its stamps' step is at least this share of the mean gap: millisecond stamps of 300
#: arrivals a second tie 14% of the time, and moving each by under a third of a gap is no burst.
TIED_SHARE = 0.05
ROUNDING_GAPS = 0.5
#: Rounding ties arrivals all through a trace: at least this share of its distinct stamps are
#: shared, for each tied arrival's share.  Rounding a Poisson stream shares about as many stamps as
#: it ties arrivals (5% and 5% at 0.1 arrivals a step, 57% and 48% at 1.5); a real burst ties its
#: arrivals on one stamp (review137 N3: 500 at once on a steady 2-ms trace tied 10% of its
#: arrivals on 0.02% of its stamps and read "rounded", so the burst was left out of the offered rate).
TIES_SPREAD = 0.125


#: Gaps this even (coefficient of variation) are a constant process's, not a gamma's.
CONSTANT_MAX_CV = 0.05


def rounding_step(times: npt.NDArray[np.float64]) -> float | None:
    """The step of a trace's rounded stamps, or None where they are not rounded: ``TIED_SHARE`` or
    more of the arrivals share the stamp before them, spread over the trace (``TIES_SPREAD``), and
    no two distinct stamps are closer than ``ROUNDING_GAPS`` mean gaps, as a logger of whole
    seconds (k6, Locust) writes."""
    gaps = np.diff(times)
    step = gaps[gaps > 0]
    tied = float(np.mean(gaps == 0)) if gaps.size else 0.0
    if not step.size or tied < TIED_SHARE or step.min() < ROUNDING_GAPS * gaps.mean():
        return None
    # distinct stamps that the next arrival shares, among all distinct stamps
    shared = np.count_nonzero((gaps[1:] == 0) & (gaps[:-1] > 0)) + int(gaps[0] == 0)
    if shared / (step.size + 1) < TIES_SPREAD * tied:
        return None
    return float(step.min())


#: A stretch of a trace is rounded where, over this many arrivals (or a fiftieth of the trace, if
#: more), at least ``STRETCH_TIED`` of them share the stamp before (rounding at 2 arrivals a step
#: ties 57%), over at least ``STRETCH_STAMPS`` shared stamps (a burst on one stamp or two is not).
STRETCH_MIN, STRETCH_TIED, STRETCH_STAMPS = 50, 0.5, 3


def _rounded_stretch(times: npt.NDArray[np.float64]) -> tuple[float, float, float, float] | None:
    """The longest stretch of a trace whose stamps are rounded though the whole is not: (first
    stamp, last stamp, the step between its stamps, the share of its arrivals tied), or None.
    Read from the density of ties, not in fixed parts: a rounded stretch across two parts left
    neither rounded (review140 N1), and a part across its edge read a fine gap as its step (N2)."""
    width = max(STRETCH_MIN, times.size // 50)
    if times.size < 2 * width:
        return None
    tie = np.concatenate([[0.0], (np.diff(times) == 0).astype(np.float64)])
    # a centred moving share of ties, from cumulative sums (a convolution is n x width: minutes at 5M)
    total = np.concatenate([[0.0], np.cumsum(tie)])
    start = np.clip(np.arange(times.size) - width // 2, 0, times.size)
    dense = (total[np.minimum(start + width, times.size)] - total[start]) / width >= STRETCH_TIED
    edges = np.flatnonzero(np.diff(np.concatenate([[0], dense.astype(np.int8), [0]])))
    best: tuple[float, float, float, float] | None = None
    for a, b in zip(edges[::2], edges[1::2]):
        shared = np.flatnonzero(tie[a:b]) + a  # arrivals tied to the one before, within the stretch
        if shared.size < STRETCH_MIN:
            continue
        seg = times[shared[0] - 1: shared[-1] + 1]
        stamps, counts = np.unique(seg, return_counts=True)
        if np.count_nonzero(counts > 1) < STRETCH_STAMPS:
            continue
        # the step between the shared stamps: a fine stamp at the stretch's edge is not one
        found = (float(seg[0]), float(seg[-1]), float(np.median(np.diff(stamps[counts > 1]))),
                 float(np.mean(np.diff(seg) == 0)))
        if best is None or found[1] - found[0] > best[1] - best[0]:
            best = found
    return best


def rounded(times: npt.NDArray[np.float64]) -> str | None:
    """What rounding the trace's stamps show (``rounding_step``), over the whole trace or a stretch
    of it (``_rounded_stretch``; review139 F9: whole-second stamps for its first 10 s and fine ones
    after read as 10 bursts, ``gamma(cv=12.3)``, and replayed 300 requests at once each second
    without a word), or None."""
    return _rounded(times, rounding_step(times))


def _rounded(times: npt.NDArray[np.float64], step: float | None) -> str | None:
    """``rounded`` with the trace's ``rounding_step`` already found (``describe`` needs it thrice)."""
    if step is None:
        stretch = _rounded_stretch(times)
        if stretch is None:
            return None
        first, last, every, tied = stretch
        return (f"from {first:.4g} s to {last:.4g} s, {tied:.0%} of its arrivals share a timestamp with the one "
                f"before (its stamps step by {every:.3g} s there): the stamps are rounded there")
    tied = float(np.mean(np.diff(times) == 0))
    share = f"{tied:.1%}" if 0.995 <= tied < 1 else f"{tied:.0%}"  # review129 F2: '100%' of 99.7%
    return (f"{share} of its arrivals share a timestamp with the one before (distinct stamps are at least "
            f"{step:.3g} s apart): the stamps are rounded")


def period(times: npt.NDArray[np.float64]) -> float:
    """How long one pass of a trace lasts, to its loop's next first arrival: its span and one mean
    gap, or one step of rounded stamps, which each stand for a step of arrivals (review131 F4:
    whole-second stamps looped a batch 3 ms after the last, and read 315.7/s for 300/s)."""
    return _period(times, rounding_step(times))


def _period(times: npt.NDArray[np.float64], step: float | None) -> float:
    """``period`` with the trace's ``rounding_step`` already found."""
    return float(times[-1] + (step if step is not None else times[-1] / (times.size - 1)))


def _window_counts(times: npt.NDArray[np.float64], window: float, bins: int) -> list[npt.NDArray[np.intp]]:
    """Arrivals per window of ``bins`` whole windows, laid from the trace's start and from its end:
    the part window either way is left out, and a burst on the last stamp was (review140 N4)."""
    return [np.histogram(times, bins=bins, range=(lo, lo + bins * window))[0]
            for lo in (0.0, float(times[-1]) - bins * window)]


def _idc(times: npt.NDArray[np.float64], window: float) -> float | None:
    """The index of dispersion of counts over ``window``: the mean of the two layings'."""
    bins = int(times[-1] // window)
    if bins < 10:
        return None
    found = [float(c.var(ddof=1) / c.mean()) for c in _window_counts(times, window, bins) if c.mean() > 0]
    return float(np.mean(found)) if found else None


#: Burst windows tried, in mean gaps (``_bursts``): the narrowest resolves bursts of a few tens of
#: arrivals, the widest calls a Poisson trace calm.
BURST_WINDOWS = (10, 20, 50, 100)
#: A window within this share of the best window's excess arrivals counts as good as it (the widest
#: such one is taken: fewer, steadier counts).
BURST_EXCESS_TIE = 0.9
#: The chance that a Poisson trace shows a burst window at all, whatever its number of windows.
BURST_CHANCE = 0.01
#: Successive log gaps correlated at least this much (and 4 standard errors, 4/sqrt(n)) are a
#: modulated process's (mmpp2, onoff: short gaps follow short gaps within a burst), not a renewal's
#: (poisson, gamma, pareto: independent gaps), whatever the tail of the gaps.
MODULATED_MIN_CORR = 0.05
#: The share of the gaps, from the top, that the deeper tail estimate reads (``describe``), and the
#: factor by which it may differ from the 5% one for the tail to count as a power law: at 20,000
#: gaps Pareto traces read within 10% (alpha 1.2 and 1.5), on-off traces 0.36-0.61x, gamma(cv=3) 1.5x.
DEEP_TAIL = 0.01
HILL_DRIFT = 1.35
#: Under this many gaps the top 1% holds under 20 of them, too few for the depth check: no Pareto
#: fit, and every fit comes with a caveat (review139 F8: 300 arrivals of gamma(cv=3) read pareto in
#: 8 of 8 seeds; 300 of an on-off process, one burst, read poisson at 5x the mean rate).
FEW_GAPS = 2000


def _bursts(times: npt.NDArray[np.float64], mean_gap: float,
            step: float | None) -> tuple[float, list[tuple[float, float]]]:
    """The burst episodes of a trace and the window that found them: runs of windows holding more
    than twice the mean count, and more than chance puts in any of them, in the window (of
    ``BURST_WINDOWS``) whose bursts hold the most arrivals beyond their share of the time.  One
    100-gap window diluted 0.25-s bursts of a 180/s trace to half their peak, and found 5 of 12
    (review138 F3)."""
    from scipy.stats import poisson as _poisson

    best: tuple[float, float, list[tuple[float, float]]] | None = None
    found: list[tuple[float, float, list[tuple[float, float]]]] = []
    for gaps_w in BURST_WINDOWS:
        w = gaps_w * mean_gap
        if step:  # whole steps of rounded stamps: 0.25-s windows on 1-s stamps read 14 bursts (review135)
            w = step * math.ceil(round(w / step, 9))
        bins = int(times[-1] // w)
        if bins < 4:
            continue
        for lo, counts in zip((0.0, float(times[-1]) - bins * w), _window_counts(times, w, bins)):
            mean = float(counts.mean())
            # beyond what chance puts in one of this many Poisson windows (10-gap windows of a Poisson
            # trace found 5-10 "bursts" at 3 sds)
            hot = (counts > 2 * mean) & (counts > float(_poisson.isf(BURST_CHANCE / bins, mean)))
            edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(int), [0]])))
            runs = [(lo + float(a * w), lo + float(b * w)) for a, b in zip(edges[::2], edges[1::2])]
            excess = (float(counts[hot].sum()) - mean * int(hot.sum())) / times.size
            found.append((w, excess, runs))
            if best is None or excess > best[1]:
                best = (w, excess, runs)
    if best is None:  # no window fits 4 times: none could show a burst (review168 F4: "0 spells ... in
        return math.nan, []  # 0.333-s windows" of a 0.03-s trace read as "no bursts")
    w, excess, runs = max((f for f in found if f[1] >= BURST_EXCESS_TIE * best[1]), key=lambda f: f[0])
    return w, runs if excess > 0 else []


def _hill(gaps: npt.NDArray[np.float64], share: float, least: int = 20) -> float:
    """The Hill estimate of the gaps' tail index from their top ``share`` (at least ``least`` gaps),
    or nan where too few gaps, or the top ones tie."""
    xs = np.sort(gaps)[::-1]
    k = max(least, int(share * xs.size))
    if xs.size <= 2 * k or xs[k] <= 0:
        return math.nan
    spread = float(np.mean(np.log(xs[:k] / xs[k])))
    return 1.0 / spread if spread > 0 else math.inf


def _gap_correlation(gaps: npt.NDArray[np.float64]) -> float:
    """The lag-1 correlation of successive log gaps (ties and zero gaps left out): near 0 for a
    renewal process, positive where bursts modulate the rate."""
    g = gaps[gaps > 0]
    if g.size < 20:
        return math.nan
    lg = np.log(g)
    a, b = lg[:-1] - lg[:-1].mean(), lg[1:] - lg[1:].mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else math.nan


#: A fit whose counts vary this many times less (or more) than the trace's, over the widest window
#: measured, misses what made the traffic what it was (review139 F4: a steady trace with one burst
#: of 500 fitted gamma(cv=0.354), 400x less dispersed; a Poisson and gamma mixture, 2-3x).
DISPERSION_MISS = 3.0
#: The same for a Pareto fit, whose infinite-variance draws spread their index of dispersion widely
#: (review140 N5: one of 30 draws of pareto(alpha=1.5) read "3.02x less" against its own fit).
DISPERSION_MISS_HEAVY = 6.0


def _dispersion_caveat(model: Process, times: npt.NDArray[np.float64], idc: dict[str, float | None]) -> str:
    """Where the fitted process's counts vary far less or more than the trace's (index of
    dispersion over the widest window measured, on as many arrivals drawn from the fit), what to
    do: replay the trace.  '' where they agree, or cannot be compared."""
    measured = [(float(k[:-1]), v) for k, v in idc.items() if v is not None]
    if not measured:
        return ""
    window, seen = measured[-1]
    try:
        drawn = model.schedule(n=int(times.size), rng=np.random.default_rng(0)) / 1e9
    except Exception:  # noqa: BLE001 - a fit that cannot be drawn says nothing here; the marker is checked on use
        return ""
    fitted = _idc(drawn - drawn[0], window)
    if fitted is None or fitted <= 0 or seen <= 0:
        return ""
    ratio = seen / fitted
    miss = DISPERSION_MISS_HEAVY if isinstance(model, Pareto) else DISPERSION_MISS
    if 1.0 / miss <= ratio <= miss:
        return ""
    how = "less" if ratio > 1 else "more"
    return (f"the closest process fits poorly: counts drawn from it vary {max(ratio, 1 / ratio):.3g}x {how} than the trace's over {window:.4g}-s windows "
            f"(index of dispersion {fitted:.3g} against {seen:.3g}): it misses what shaped this traffic; replay the "
            f"trace itself")


def describe(path: str, *, unit: str | None = None, kind: str | None = None, column: int | str = 0) -> dict[str, Any]:
    """Rate, burstiness and the closest parametric process of a recorded trace."""
    try:
        mtime = os.path.getmtime(path)
    except OSError as exc:  # review116: "[Errno 2] No such file or directory" named no fix
        raise _bad(str(path), "no such file" if isinstance(exc, FileNotFoundError) else
                   f"cannot be read ({exc.strerror or exc})", "give the path of a trace file on disk") from None
    times = _load(str(path), mtime, kind, unit, column)
    # what a JSON file names for itself, which _load took (its parse is cached: not read again)
    values, _, named_kind, named_unit, named = _parsed(str(path), mtime, os.path.splitext(str(path))[1].lower(),
                                                       column)
    dated = None if unit or named_unit else epoch_unit(values, named_kind or kind or KINDS[0])
    gaps = np.diff(times)
    step = rounding_step(times)  # (O(n) on millions of stamps: found once; None where only a stretch is rounded)
    span = _period(times, step)
    rate = float(times.size / span)  # (n - 1) / span, where the stamps are not rounded
    note = _rounded(times, step)
    cv = float(gaps.std(ddof=1) / gaps.mean()) if gaps.size > 1 else math.nan
    mean_gap = 1.0 / rate
    windows = [w for w in (10 * mean_gap, 100 * mean_gap, 1000 * mean_gap) if times[-1] / w >= 10]
    idc = {f"{w:.4g}s": _idc(times, w) for w in windows}
    w, bursts = _bursts(times, mean_gap, step)
    # the top 5% of the gaps; equal top gaps: no tail (a RuntimeWarning, review120)
    tail = _hill(gaps, 0.05, least=2) if gaps.size > 40 else math.nan
    if note is not None:  # a tail of the rounding's gaps: 6.67e+13 of 10-ms stamps (review132 D2)
        tail = math.nan
    idc_vals = [v for v in idc.values() if v is not None]
    growing = len(idc_vals) >= 2 and idc_vals[-1] > 1.5 * max(idc_vals[0], 1.0)
    # A power tail reads alike from the top 5% and the top 1% of the gaps; an on-off trace's top gaps
    # are its calm spells, a second scale that reads heavier the higher one looks (review136 N4: it
    # read pareto(alpha=1.05)), and a gamma's exponential tail reads lighter.
    deep = _hill(gaps, DEEP_TAIL)
    drift = deep / tail if math.isfinite(deep) and math.isfinite(tail) and tail > 0 else 1.0
    # Bursts are a modulated process's where its short gaps follow each other (mmpp2), or where the
    # gaps hold two scales (onoff: a renewal process, its gaps independent).
    corr = _gap_correlation(gaps)
    modulated = growing and bool(bursts) and (
        drift < 1.0 / HILL_DRIFT or corr >= max(MODULATED_MIN_CORR, 4.0 / math.sqrt(max(gaps.size, 1))))

    def g(x: float, digits: int = 3) -> float:
        return float(f"{x:.{digits}g}")  # as printed, so the check draws what a pasted marker draws

    def closest() -> tuple[Process, str]:
        if (not math.isnan(tail) and tail < 1.9 and cv > 1.5 and 1.0 / HILL_DRIFT <= drift <= HILL_DRIFT
                and gaps.size >= FEW_GAPS):
            return (Pareto(g(rate, 4), alpha=g(max(tail, 1.05))),
                    f"pareto(rate_hz={rate:.4g}, alpha={max(tail, 1.05):.3g})")
        if modulated:
            share = sum(b - a for a, b in bursts) / times[-1]
            burst_s = max(w, sum(b - a for a, b in bursts) / len(bursts))
            calm_s = burst_s * (1 - share) / max(share, 1e-9)
            in_burst = sum(((times >= a) & (times < b)).sum() for a, b in bursts) / times.size
            peak = min((in_burst / max(share, 1e-9)), (burst_s + calm_s) / burst_s)
            return (MMPP2(g(rate, 4), peak_to_mean=g(peak), burst_s=g(burst_s), calm_s=g(calm_s)),
                    f"mmpp2(rate_hz={rate:.4g}, peak_to_mean={peak:.3g}, burst_s={burst_s:.3g}, calm_s={calm_s:.3g})")
        if cv < CONSTANT_MAX_CV:  # an even trace read gamma(cv=2.37e-13) (review135)
            return Constant(g(rate, 4)), f"constant(rate_hz={rate:.4g})"
        if abs(cv - 1.0) < 0.1:
            return Poisson(g(rate, 4)), f"poisson(rate_hz={rate:.4g})"
        return Gamma(g(rate, 4), cv=g(cv)), f"gamma(rate_hz={rate:.4g}, cv={cv:.3g})"

    model: Process | None = None
    fit = unfitted = ""
    if note is not None:  # a fit to the rounding, pasted as the traffic (review131 F4)
        unfitted = "the rounded stamps, not the traffic, set the gaps"
    elif not math.isfinite(cv):  # review139 F5: two arrivals suggested gamma(cv=nan), which does not parse
        unfitted = "too few gaps to fit a process"
    elif not rate <= limits.MAX_RATE_HZ:  # review172 F7: seconds read as ns suggested rate_hz=1.01e+11
        unfitted = (f"its rate is past the {limits.MAX_RATE_HZ:,.0f} requests/s one dispatcher can offer "
                    f"(limits.MAX_RATE_HZ), so no marker would run")
    else:
        try:
            model, fit = closest()
        except InvalidArgument as exc:
            # a pasted gamma(cv=79.2) was refused: "burstier than cv=20"
            unfitted = f"the closest process's parameters are out of its range: {str(exc).split(':', 1)[-1].strip()}"
    caveat = _dispersion_caveat(model, times, idc) if model is not None else ""
    if model is not None and gaps.size < FEW_GAPS:
        caveat = "; ".join(x for x in (
            f"{times.size} arrivals are few to tell Poisson, gamma, Pareto and bursts apart (a Pareto tail needs "
            f"{FEW_GAPS:,} or more), and a short trace may hold one burst or calm spell alone: take it as a rough "
            f"guess, record more, or replay the trace itself", caveat) if x)
    # the span the rate is over: to the last stamp's step's end where the stamps are rounded (review132 D3)
    return {"path": str(path), "arrivals": int(times.size), "span_s": span if step is not None else float(times[-1]),
            "rate_hz": rate, "cv": cv, "idc": idc, "hill_tail_index": tail, "bursts": bursts, "burst_window_s": w,
            "closest": fit, "marker": (f'@pytest.mark.slo(rate_hz={rate:.4g}, arrivals="{fit}", ...)' if fit
                                       else f"@pytest.mark.slo(rate_hz={rate:.4g}, ...)"
                                       if rate <= limits.MAX_RATE_HZ else None),
            "unit": named_unit or unit or dated or "s", "unit_named": named_unit is not None, "unit_from": named,
            "unit_dated": dated is not None,
            "kind": named_kind or kind or KINDS[0],
            "kind_named": named_kind, "rounded": note, "unfitted": unfitted, "caveat": caveat}


__all__ = ["TIED_SHARE", "TIES_SPREAD", "Trace", "describe", "period", "rounded", "rounding_step"]
