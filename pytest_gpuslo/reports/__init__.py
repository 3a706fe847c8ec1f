"""Report formats: the registry the plugin's options and writers come from (layer 2, pure).

Each format is one module with a ``render(summaries, context) -> str`` function and one line in
``FORMATS``; its ``--gpuslo-<flag>`` option and ``gpuslo_<key>`` ini key are declared from that
line, and the session writes every format asked for, each on its own (a failed write is
reported after the others are written).  Renderers are imported only when used.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_gpuslo.errors import dangling, loops, shown


@dataclass(frozen=True, slots=True)
class Context:
    """What a renderer may need beyond the summaries."""

    #: Holm-adjusted p-values of the session's blocking claims (``gate.suite_holm``).
    holm: dict[str, float] = field(default_factory=dict)
    commit: str | None = None
    #: SLO tests that ended in an error (node id, pytest's word and when: "FAILED before a verdict:
    #: <error>" for a malformed baseline, "ERROR in setup, before a verdict: <error>" for a fixture
    #: that raised, "ERROR in teardown, after its verdict: <error>").  Reports
    #: name them, so that "1 SLO test: 1 PASS" is never all they say of a session pytest failed.
    errors: tuple[tuple[str, str], ...] = ()
    #: the session's alpha per claim, and what an INCONCLUSIVE did to its test ("warn": it passed,
    #: "fail": it failed): a report that maps verdicts to pass/fail needs both (None from the CLI).
    alpha: float | None = None
    inconclusive: str | None = None
    #: why the session stopped before every SLO test ran (Ctrl-C), in words; '' when it did not.
    interrupted: str = ""
    #: why a --gpuslo-save session saved none of its runs (it exits 4, "recorded nothing"), in
    #: words; '' otherwise: a red record job's summary said only "2 INCONCLUSIVE" (review195 F1).
    recorded: str = ""
    #: (node id, words) of SLO tests a report must name though they have no verdict: ``gpuslo ab``'s
    #: tests that ran at the base but not in the working tree (review103 F7: the terminal only).
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One report file the user can ask for."""

    #: setting key: ``--gpuslo-<key with dashes>`` and ini ``gpuslo_<key>``.
    key: str
    help: str
    #: ``"module:function"`` rendering ``(summaries, Context) -> str``.
    renderer: str
    #: a module the renderer needs, and the pip extra that installs it.
    needs: tuple[str, str] | None = None
    #: texts one of which every file of this format holds near its start: an existing file that
    #: holds none is not overwritten (review91: --gpuslo-json=.git/config broke the repository;
    #: review92: the benchmark export replaced the results JSON); empty: no check.
    signature: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return self.key.replace("_", "-")

    def render(self, summaries: Sequence[dict[str, Any]], context: Context) -> str:
        module, _, name = self.renderer.partition(":")
        fn: Callable[[Sequence[dict[str, Any]], Context], str] = getattr(importlib.import_module(module), name)
        return fn(summaries, context)


#: The benchmark export's "tool" (the results JSON's is "pytest-gpuslo"): one is not the other.
BENCHMARK_TOOL = "pytest-gpuslo benchmark export"

#: The markdown report's signature: also what a step summary file of some content must hold.
MD_SIGNATURE = ("## pytest-gpuslo: tail-latency SLOs",)

#: The registry, in the order reports are written.
FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("json", "Write every SLO result to this JSON file (schema in docs/reports.md)",
                 "pytest_gpuslo.reports.files:render_json", signature=('"tool": "pytest-gpuslo",',)),
    ReportFormat("md", "Write a markdown summary fit for a pull-request comment",
                 "pytest_gpuslo.reports.files:render_markdown", signature=MD_SIGNATURE),
    ReportFormat("html", "Write a self-contained HTML report with charts per test (opens offline)",
                 "pytest_gpuslo.reports.html:render_html", signature=("<title>pytest-gpuslo report</title>",)),
    ReportFormat("benchmark_json",
                 "Export results in pytest-benchmark's JSON format (p95/p99 as extra benchmarks)",
                 "pytest_gpuslo.reports.files:render_benchmark_json",
                 # (exports from before the tool key carry the group in every benchmark)
                 signature=(f'"tool": "{BENCHMARK_TOOL}"', '"group": "gpuslo"')),
)


#: This process's open file descriptors when pytest loaded the plugin (``note_open_fds``), before
#: pytest's output capture took numbers of its own: a closed /dev/fd/7 was the capture's copy of the
#: terminal, and the report went there (review133 F1).  None where not noted or not known.
OPEN_AT_START: frozenset[int] | None = None


def note_open_fds() -> None:
    """Note ``OPEN_AT_START`` (Linux's /proc/self/fd; elsewhere nothing is noted)."""
    global OPEN_AT_START
    try:
        OPEN_AT_START = frozenset(int(name) for name in os.listdir("/proc/self/fd") if name.isdigit())
    except OSError:
        OPEN_AT_START = None


def same_file(a: int | str | Path, fd: int) -> bool:
    """``a`` (a descriptor or a path) and this process's descriptor ``fd`` are one file (or
    terminal, or pipe); False where either cannot be looked at."""
    try:
        x = os.fstat(a) if isinstance(a, int) else os.stat(a)
        y = os.fstat(fd)
    except OSError:
        return False
    return (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino)


def stream_fd(path: str | Path) -> int | None:
    """The file descriptor a path names when it is this process's stream (``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``), else None."""
    text = str(path)
    named = {"/dev/stdout": 1, "/dev/stderr": 2}.get(text)
    if named is not None:
        return named
    found = re.fullmatch(r"/(?:dev/fd|proc/self/fd)/(\d+)", text)
    return int(found.group(1)) if found else None


def write(path: str | Path, text: str) -> str:
    """Write one report file, creating its folder; what to say of it ("PATH", or "PATH (created
    the folder F)": a typo'd folder made silently went unnoticed, review69).  A stream of this
    process is written through its own descriptor, after what was printed and from a new line:
    opened anew, ``> out.txt`` was truncated and the report overwrote pytest's output from the
    start of the file (review128 N1)."""
    fd = stream_fd(path)
    if fd is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        data = memoryview(("\n" + text if not text.startswith("\n") else text).encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
        return str(path)
    p = Path(path)
    made = not p.parent.is_dir()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    # the whole new path, not only its outermost folder: a/b/c made for a/b/c/r.json reads "a/b/c"
    # (printed: control codes written out, review168 F6: a name holding a clear-screen code)
    return f"{shown(p)} (created the folder {shown(p.parent)})" if made else shown(p)


def inside(path: str | Path, folder: str | Path) -> bool:
    """``path`` lies in ``folder``, links resolved: a report written into the baseline store would
    be read as a baseline by every later command (review87, review92)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def one_file(named: Sequence[tuple[str, str | Path]]) -> str | None:
    """``"A and B name one file"`` where two of the (what, path) pairs are one file (through
    ``./``, ``..`` or a link), else None: a report written over another, over pytest's JUnit XML
    or over the project's configuration file lost it without a word (review85, review86)."""
    seen: dict[str, str] = {}
    for what, path in named:
        full = os.path.realpath(path)
        if stream_fd(path) is not None or (os.path.exists(path) and not os.path.isfile(path)):
            continue  # a stream or /dev/null takes any number of reports (review127 N11)
        if full in seen:
            return f"{seen[full]} and {what} name one file"
        seen[full] = what
    return None


#: Suffixes of files a report path names by mistake (a tab-completed test module, the config).
NOT_A_REPORT = frozenset({".py", ".pyi", ".pyw", ".pyx", ".pxd", ".ipynb", ".c", ".cc", ".cpp", ".h", ".hpp", ".cu",
                          ".cuh", ".toml", ".cfg", ".ini"})


#: Folders of the system itself, whose files no step summary is appended to.
SYSTEM_FOLDERS = ("/etc/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/boot/", "/proc/", "/sys/")


def store_unfit(store: str | os.PathLike[str]) -> str:
    """Why a folder is no place for a baseline store ('' where it is one): a folder of the system
    (/etc, /, /dev, /var itself: each run writes its last-run records there) or one inside a git
    repository's own .git.  The plugin's store option and the CLI's --dir ask the same (review168
    F7, review197 F5, review200 F9: `gpuslo accept --dir /` wrote a baseline into /)."""
    real = os.path.realpath(store)
    if (real + "/").startswith((*SYSTEM_FOLDERS, "/dev/")) or real in ("/", "/var"):
        return (f"{real} is a folder of the system, where no baseline belongs (each run writes its last-run "
                f"record there)")
    if ".git" in Path(real).parts:
        return (f"{real} is inside a git repository's own folder (.git), where git keeps its objects and no "
                f"baseline can be committed")
    return ""


def step_summary_unusable(path: str, store: str | Path | None = None) -> str | None:
    """Why ``$GITHUB_STEP_SUMMARY`` cannot take the markdown table appended to it, found before
    anything is measured, or None.  GitHub Actions gives each step a new, empty file
    (``.../_runner_file_commands/step_summary_<id>``); a local run may name a markdown file.  An
    append keeps what is there, so the file must be new, empty, a markdown file (``.md``) or
    GitHub's own, in a folder that exists, and neither in the baseline store ``store``, in a
    ``.git`` folder nor in the system's own folders: review164 F9 and review166 F6, F8 found the
    table appended to a .py module, /etc/passwd, a stored baseline (read UNREADABLE after) and
    .git/config (git then refused to run), and review166 F1 a missing folder refused only after the
    whole run (``gpuslo ab``: a traceback).  This process's streams and /dev/null are let through."""
    if stream_fd(path) is not None or os.path.realpath(path) == "/dev/null":
        return None
    real = os.path.realpath(path)
    if Path(real).name.startswith("step_summary_") and Path(real).parent.name == "_runner_file_commands":
        return None  # the runner's own file, wherever a self-hosted runner keeps its work folder
    if real.startswith(SYSTEM_FOLDERS):
        return f"{path} is a file of the system ({real}), which no step summary belongs in"
    if store is not None and inside(path, store):
        return f"{path} is inside the baseline store {store}, which holds baselines only"
    if ".git" in Path(real).parts:
        return f"{path} is inside a .git folder, which git keeps for itself"
    why = unwritable(path)
    if why:
        return why
    p = Path(path)
    if not p.parent.is_dir():
        return f"its folder {p.parent} does not exist"
    try:
        empty = not p.exists() or p.stat().st_size == 0
    except OSError as exc:
        return f"{p} cannot be read ({exc.strerror or exc})"
    # A file of some content must hold this plugin's table already (an earlier step's summary):
    # review168 F2, README.md had the table appended, where --gpuslo-md=README.md is refused.
    if not empty and not _begins_with_table(p):
        return (f"{p} exists and holds no step summary of this plugin (it is not empty, and GitHub's own is "
                f"step_summary_* in _runner_file_commands), so the table appended would change a file of yours")
    return None


def _begins_with_table(path: Path) -> bool:
    """Whether ``path`` starts with this plugin's markdown heading, as a file only earlier runs
    appended to does: review169 F1, notes of a user's that held the heading in their prose took
    the table (its first line that holds anything is read, not any line of its first 8 KiB)."""
    try:
        with open(path, "rb") as f:
            head = f.read(SIGNATURE_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    first = next((ln.strip() for ln in head.splitlines() if ln.strip()), "")
    return first in MD_SIGNATURE


#: How much of an existing file is read for a report's signature.
SIGNATURE_BYTES = 8192


def unwritable(path: str | Path, signature: tuple[str, ...] = ()) -> str | None:
    """Why a report cannot be written at ``path``, found before anything is measured, or None
    (``_unwritable``; a path that cannot even be looked at says so: review166 F3, /proc/1/fd/1 read
    pytest's INTERNALERROR on a PermissionError)."""
    try:
        return _unwritable(path, signature)
    except OSError as exc:
        return f"{path} cannot be looked at ({exc.strerror or exc}); give a path this user can write"


def _unwritable(path: str | Path, signature: tuple[str, ...] = ()) -> str | None:
    """Why a report cannot be written at ``path``, found before anything is measured, or None.

    A folder given as the file, a parent that is a file, or a place no file can be made (/proc, a
    read-only disk) were found only after every run (review69: minutes of ``gpuslo ab``, then a
    traceback).  The folder that would hold it is probed with a temporary file, removed at once."""
    import os
    import stat
    import tempfile

    p = Path(path)
    if p.is_dir():
        return f"{p} is a folder, not a file"
    fd = stream_fd(path)
    if fd is not None:
        try:
            os.fstat(fd)
            given = OPEN_AT_START is None or fd in OPEN_AT_START
        except OSError:  # review128 N8: a closed /dev/fd/9 read "no file can be made in /dev/fd"
            given = False
        if not given:
            return (f"{p} names file descriptor {fd}, which this process was not given open (a shell opens it "
                    f"with {fd}>FILE)")
    elif (same := next((q for q in (p, Path(os.path.normpath(p))) if q.is_file()), None)) is not None:
        # (normalised too: "nosub/../out.txt" is out.txt once nosub is made: review132 D5)
        for fd, name in ((1, "standard output"), (2, "standard error")):
            if same_file(same, fd):
                # review130 N2: "> out.txt" and --gpuslo-md=out.txt: the report was written over what
                # pytest printed there, the JSON sent to /dev/stdout lost, and "wrote" said of both
                return (f"{p} is where this process's {name} goes (a shell's {fd if fd == 2 else ''}> {p}): a report "
                        f"written there replaces what was printed; give another path, or /dev/{'stdout' if fd == 1 else 'stderr'} "
                        f"to put the report below pytest's output")
    if loops(p):  # review120: refused only after the whole run
        return f"{p} is {dangling(p)}"
    top = next((t for t in ("/proc", "/sys") if os.path.realpath(p).startswith(t + "/")), None)
    if top is not None and stream_fd(path) is None and p.exists() and not stat.S_ISCHR(os.stat(p).st_mode):
        # review164 F1: /proc/self/status, which root may "write" (os.access says yes), was
        # refused only after the whole run ("Invalid argument")
        return f"{p} is in {top}, the kernel's own files, where no report can be written"
    try:
        mode = p.stat().st_mode
    except OSError:
        mode = 0
    if p.is_symlink() and not p.exists():
        target = Path(os.path.join(os.path.dirname(p), os.readlink(p)))
        if not target.parent.is_dir():  # review121: written through at the end, "No such file or directory"
            return f"{p} is a link to {target}, whose folder {target.parent} does not exist"
    if (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)) and not os.path.realpath(p).startswith(("/proc/", "/dev/")):
        # review117 F16: after every run of gpuslo ab, the report's write to a named pipe waited
        # forever for a reader (/dev/stdout, a pipe the shell made, is let through)
        return f"{p} is a named pipe or socket, which a report written there would wait on until something reads it"
    real = os.path.realpath(p)
    if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and real != "/dev/null" and str(path) not in (
            "/dev/stdout", "/dev/stderr") and not real.startswith(("/dev/pts/", "/dev/tty", "/dev/console")):
        # review116 F3, review117 F17: /dev/full failed only after every run, /dev/zero kept nothing
        return f"{p} is a device, not a file (a report goes to a file, to /dev/stdout, or to /dev/null to drop it)"
    if stat.S_ISCHR(mode):  # a terminal where none is (review127 N10: /dev/tty in CI, refused at the end)
        try:
            os.close(os.open(p, os.O_WRONLY | os.O_NOCTTY))
        except OSError as exc:
            return f"{p} cannot be opened for writing ({exc.strerror or exc})"
    if p.suffix.lower() in NOT_A_REPORT:
        # review88: --gpuslo-json=test_base.py replaced the test module, --gpuslo-html=conftest.py the conftest
        return f"{p} is a {p.suffix} file, source or configuration, which a report written there would replace"
    if isinstance(path, str) and path.endswith(("/", os.sep)):
        # Path() drops the slash, and a report was written as a file named like the folder meant
        return f"{path} ends in a slash, so it names a folder"
    parent = p.parent
    while parent != parent.parent and not parent.exists():
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        # (review120: a FIFO read "is a file")
        return f"{parent} is {'a file' if parent.is_file() else 'a FIFO, device or socket'}, not a folder"
    # An existing path the report may write over needs no new file beside it (review127 N5:
    # /dev/fd/1, what /dev/stdout links to, read "no file can be made in /dev/fd").
    if not (p.exists() and os.access(p, os.W_OK)):
        try:
            fd, probe = tempfile.mkstemp(dir=parent, prefix=".gpuslo-probe-")
        except OSError as exc:
            import errno

            # ENOENT in a folder that exists (procfs) read as if it were missing (review70b)
            why = "the system refuses new files there" if exc.errno == errno.ENOENT else (exc.strerror or str(exc))
            return f"no file can be made in {parent} ({why})"
        os.close(fd)
        os.unlink(probe)
    if p.exists() and not os.access(p, os.W_OK):
        return f"{p} is read-only"
    if signature and p.is_file() and p.stat().st_size and stream_fd(path) is None:
        with open(p, "rb") as f:
            head = f.read(SIGNATURE_BYTES).decode("utf-8", "replace")
        if not any(s in head for s in signature):
            # review91: README.md, .gitignore and .git/config were replaced, even on a --co run
            return (f"{p} exists and is no report of this kind from this plugin, so writing one there would replace it "
                    f"(remove it first if it may go)")
    return None
