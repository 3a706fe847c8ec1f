"""Exception hierarchy for pytest-gpuslo (layer 0: imports nothing of the project).

Every user-facing error names the value, where it came from and how to fix it.  The warning
class, ``GpuSloWarning``, is a ``pytest.PytestWarning`` and so lives in the pytest layer
(``session.py``; ``pytest_gpuslo.GpuSloWarning``).
"""

from __future__ import annotations

import errno
import os
import re
from typing import Any

#: Terminal control codes (tab and newline aside): stored text must not hold them, since the
#: reports print it as it is (``baseline`` refuses a file that does).
CONTROL_CODES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with its control codes written out (``\x1b``): a body's error message or stage
    name in colour was stored as it was, and its own loader then refused the file (review85)."""
    return CONTROL_CODES.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


#: Every control code, tab and newline too: a file name is one line.
_NAME_CODES = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(name: object, limit: int | None = None) -> str:
    """A file name or path as printed: its control codes, newlines and tabs written out (``\x1b``,
    ``\x0a``).  review164 F4: a store file whose name held a terminal escape set the terminal's
    title and cleared it in ``gpuslo show``, and one holding a newline split its line, whose second
    half could read as a GitHub Actions command (``::error::``) in a CI log.  With ``limit``, cut
    to that many characters with its length said."""
    text = _NAME_CODES.sub(lambda m: f"\\x{ord(m.group()):02x}", str(name))
    return text if limit is None or len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def path_error(exc: OSError) -> str:
    """An ``OSError`` a path check raised, as a sentence with its fix: ``Path.exists`` and
    ``is_dir`` raise rather than answer for a name longer than the file system takes (review197 F4:
    a traceback, exit 1, which `gpuslo compare` documents as a regression)."""
    name = shown(exc.filename, 160) if exc.filename is not None else "a path"
    if exc.errno == errno.ENAMETOOLONG:
        return f"{name}: a name in it is longer than the file system takes; give a shorter path"
    return f"{name} cannot be looked at ({exc.strerror or exc}); give a path this user can read"


#: A body's error as the run keeps it: each line at most ``ERROR_LINE`` characters, the whole at
#: most ``ERROR_CHARS`` (review95 #4: a 2-MB message was printed five times, 10 MB of output).
ERROR_LINE, ERROR_CHARS = 1000, 8000


def bounded(text: str) -> str:
    """A traceback cut to size: long lines cut with their length said; where still too long, its
    first and last lines (the last hold the exception and its message) around a count of those left out."""
    lines = [ln if len(ln) <= ERROR_LINE else f"{ln[:ERROR_LINE]}... ({len(ln):,} characters)"
             for ln in text.splitlines()]
    if sum(len(ln) + 1 for ln in lines) <= ERROR_CHARS:
        return "\n".join(lines) + ("\n" if text.endswith("\n") else "")

    def fit(seq: list[str]) -> int:
        """How many of ``seq``'s first lines fit in half the room."""
        used = 0
        for i, ln in enumerate(seq):
            used += len(ln) + 1
            if used > ERROR_CHARS // 2:
                return i
        return len(seq)

    head = lines[:fit(lines)]
    rest = lines[len(head):]
    tail = rest[len(rest) - fit(rest[::-1]):]
    left = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"... ({left:,} lines left out)", *tail]) + "\n"


def error_line(text: str, limit: int = 500) -> str:
    """The exception a traceback ends in, type and whole message on one line: a traceback's last
    line alone named ``(while reading user 42)`` for ``RuntimeError: db timeout\n(while reading
    user 42)``, without the type or the error (review169 F4); one line also keeps a message's
    ``::error`` from reading as a CI command.  Text that is no traceback is joined as it is."""
    lines = text.strip().splitlines()
    heads = [i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last)")]
    if heads:  # the last traceback's frames are indented; its exception starts at column 0
        start = heads[-1] + 1
        while start < len(lines) and (lines[start].startswith(" ") or _LEFT_OUT.match(lines[start])):
            start += 1
        lines = lines[start:] or lines[-1:]
    elif any("Exception Group Traceback" in ln for ln in lines[:1]):  # the group and its count
        group = [m.group(1) for ln in lines if (m := _GROUP.match(ln))]
        # the group's own line, then its members' (review172 F3: which exceptions it held was lost)
        lines = [group[0] + (": " + "; ".join(group[1:]) if group[1:] else "")] if group else lines[-1:]
    words = " ".join(ln.strip() for ln in lines if ln.strip())
    return words if len(words) <= limit else f"{words[:limit]}..."


#: An exception group's own line, ``  | ExceptionGroup: grp (2 sub-exceptions)``.
_GROUP = re.compile(r"^\s*\| ([A-Za-z_][\w.]*(?::.*)?)$")
#: The line ``bounded`` puts where it cut a traceback's middle.
_LEFT_OUT = re.compile(r"\.\.\. \([\d,]+ lines left out\)$")


def brief(value: Any, limit: int = 80) -> str:
    """A value as an error quotes it: its repr, cut to ``limit`` characters with its length said
    (a 100 kB string or a huge object must not become a 100 kB error message)."""
    r = repr(value)
    size = len(value) if isinstance(value, (str, list, dict)) else len(r)
    what = "items" if isinstance(value, (list, dict)) else "characters"
    return r if len(r) <= limit else f"{r[:limit]}... ({size:,} {what})"


#: The folder of last-run records inside the baseline folder, for ``gpuslo accept`` and ``gpuslo ab``
#: (it holds its own .gitignore, so nothing needs adding to the project's). Here, not in ``baseline``:
#: the plugin checks its paths at every start, and ``baseline`` imports numpy and scipy (review119 F6).
LAST_RUNS = ".last"


def loops(path: str | os.PathLike[str]) -> bool:
    """``path`` is, or lies behind, a symbolic link that loops back on itself (``ELOOP``)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def dangling(path: str | os.PathLike[str]) -> str:
    """``"a link to nothing (to TARGET)"`` where ``path`` is a symbolic link whose target is not
    there (``"behind a link that loops back on itself"`` where a folder on its way loops), else
    ``""``: every command that takes a path says so in the same words (review76-80: "no such file
    or folder" was true of the target only, and --keep made the target)."""
    try:
        target = os.readlink(path)
    except OSError:  # not a link (or unreadable as one), but perhaps reached through a looping one
        # review121: store/sub with store -> store read "no such folder"
        return "behind a link that loops back on itself" if loops(path) else ""
    if loops(path):  # review79: ``ln -s loop loop`` read "a link to nothing"
        return f"a link that loops back on itself (to {target})"
    return "" if os.path.exists(path) else f"a link to nothing (to {target})"


class GpuSloError(Exception):
    """Base class of every error raised by pytest-gpuslo."""


class InvalidArgument(GpuSloError, ValueError):
    """A marker argument, option or library argument is wrong (value, source and fix in the message)."""


class BackendUnavailable(GpuSloError, RuntimeError):
    """The requested backend cannot run here (no CuPy, no driver, no device); the message says which."""


class BaselineError(GpuSloError):
    """A stored baseline cannot be used."""


class BaselineFormatError(BaselineError, ValueError):
    """A baseline file is corrupt, truncated, not JSON, or of a newer schema."""

    #: what is wrong with the file, without its path and remedy (set where the reader knows it)
    what: str = ""


class NotAwaited(InvalidArgument, TypeError):
    """A body returned a coroutine or another awaitable without running it: nothing was timed."""


class WorkloadError(GpuSloError, RuntimeError):
    """The workload under test broke in a way that makes the run unusable (e.g. a lost CUDA context)."""

