"""The graded kernel: a fresh kernel per notebook, its limits and its policy.

Size: 300+ lines: the kernel's launch (namespace, ipc), its scratch folder and environment, the
watchdog and the cell loop are one mechanism; the policy inside the kernel is ``policy.py``.

``execute`` runs chosen cells of a notebook in a fresh ipykernel, in a scratch folder of its own,
and returns what each cell did (its error, its time, the check results it logged):

* **Network off.**  When the machine allows unprivileged user namespaces (``network_mode()``
  probes ``unshare -rn`` once), the kernel runs as ``unshare -rn python -m ipykernel_launcher``:
  a new network namespace with no interface but a loopback that is down; nbclient then talks
  to the kernel over Unix sockets (the ``ipc`` transport).  Otherwise (``"audit"``) the policy's
  audit hook refuses every connection and name lookup but loopback's.  The hook runs in both
  modes, so a refused attempt is named in the feedback; ``reglab grade`` prints which mode ran.
* **Time.**  nbclient's per-cell limit (``Limits.cell_timeout``: the cell is interrupted, the run
  goes on with the next cell) and a limit for the whole notebook (``Limits.timeout``): a watchdog
  thread kills the kernel's process group when it is reached.
* **Memory.**  ``RLIMIT_AS`` of ``Limits.memory_gib`` set in the kernel before any student code
  (a ``MemoryError`` in the cell that asked for too much); the watchdog also kills the process
  group when the resident memory of all its processes passes the limit.
* **Files and processes.**  ``reglab.classroom.policy``, installed as the kernel's
  ``sitecustomize`` (see there what it refuses and what it does not stop).
* **Environment.**  The grader's, plus ``REGLAB_STUDENT``, ``REGLAB_CHECK_LOG`` (a log in the
  scratch folder), and ``HOME``, ``TMPDIR``, ``IPYTHONDIR``, ``KERAS_HOME``, ``MPLCONFIGDIR``
  inside the scratch folder.  A cell's stored outputs are capped (``OUTPUT_BYTES``), so a
  submission that prints without end cannot fill the grader's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reglab.checks import LOG_VARIABLE
from reglab.classroom.policy import POLICY_VARIABLE
from reglab.classroom.variants import STUDENT_VARIABLE
from reglab.params import InstanceOf, Integer, ListOf, MappingOf, NoneOr, PathLike, Real, Text, validated

#: Bytes of output kept per cell; the rest is dropped (a note says so).
OUTPUT_BYTES = 200_000
#: Bytes of the check log read after one cell.
LOG_BYTES = 1_000_000
#: The reasons a kernel is stopped, as the feedback words them.
STOPPED = {
    "time": "stopped: the notebook ran over its time limit ({timeout} s)",
    "memory": "stopped: the notebook used more than its memory limit ({memory_gib:g} GiB)",
    "died": "stopped: the kernel died",
}


@dataclass(frozen=True)
class Limits:
    """The limits of one notebook's run."""

    timeout: int = 600  #: seconds for the whole notebook
    cell_timeout: int = 120  #: seconds for one cell (interrupted, the run goes on)
    memory_gib: float = 4.0  #: address space of each kernel process, and RSS of them all


@validated(timeout=Integer(minimum=1), cell_timeout=NoneOr(Integer(minimum=1)),
           memory_gib=Real(0.25, 1024.0))
def limits(timeout: int = 600, cell_timeout: int | None = None, memory_gib: float = 4.0) -> Limits:
    """The ``Limits`` of a run; ``cell_timeout`` defaults to ``min(120, timeout)``."""
    cell = min(120, timeout) if cell_timeout is None else min(cell_timeout, timeout)
    return Limits(timeout, cell, float(memory_gib))


@dataclass
class CellRun:
    """What one cell did."""

    index: int
    seconds: float
    error: dict | None = None  #: ``ename``, ``evalue``, ``traceback`` of its error output
    records: list[dict] = field(default_factory=list)  #: the check lines it logged
    timed_out: bool = False


@dataclass
class Run:
    """What a notebook's run did: its cells (those that ran), why it stopped early, if it did."""

    cells: dict[int, CellRun] = field(default_factory=dict)
    stopped: str | None = None  #: a key of ``STOPPED``
    stopped_at: int | None = None  #: the cell that was running then
    seconds: float = 0.0


@cache
def network_mode() -> str:
    """``"namespace"`` when ``unshare -rn`` works here (probed once), else ``"audit"``."""
    if shutil.which("unshare") is None:
        return "audit"
    try:
        done = subprocess.run(["unshare", "-rn", sys.executable, "-c", "pass"], timeout=30,
                              capture_output=True, check=False)
    except (OSError, subprocess.SubprocessError):
        return "audit"
    return "namespace" if done.returncode == 0 else "audit"


def _allowed_reads(workbook: Path) -> list[str]:
    """The workbook's package and data, and the Python installation (not the rest of sys.path:
    the current folder may hold the workbook)."""
    import site

    paths = [workbook / "reglab", workbook / "data", Path(sys.prefix), Path(sys.base_prefix),
             Path(sys.exec_prefix), *map(Path, site.getsitepackages())]
    return sorted({str(p) for p in paths})


_LIMITS = InstanceOf("reglab.classroom.sandbox:Limits", example=lambda: Limits())


@validated(scratch=PathLike(), student=Text(), workbook=PathLike(), deny=ListOf(PathLike()),
           limit=_LIMITS)
def prepare(scratch: Path, *, student: str, workbook: Path, deny: list[Path],
            limit: Limits) -> dict[str, str]:
    """Lay out ``scratch`` for a kernel and return the kernel's environment.

    ``deny``: folders the kernel may not read (``workbook`` is added; its ``reglab/`` and
    ``data/`` and the Python installation stay readable).
    """
    scratch, workbook = scratch.resolve(), workbook.resolve()
    deny = [p.resolve() for p in deny]
    site = scratch / ".reglab" / "policy"
    site.mkdir(parents=True)
    shutil.copyfile(Path(__file__).with_name("policy.py"), site / "sitecustomize.py")
    homes = {name: scratch / folder for name, folder in (
        ("HOME", ".reglab/home"), ("TMPDIR", ".reglab/tmp"), ("IPYTHONDIR", ".reglab/home/.ipython"),
        ("KERAS_HOME", ".reglab/home/.keras"), ("MPLCONFIGDIR", ".reglab/home/.matplotlib"))}
    for folder in homes.values():
        folder.mkdir(parents=True, exist_ok=True)
    log = scratch / ".reglab" / "checks.jsonl"
    log.touch()
    policy = {"scratch": str(scratch), "deny": sorted({str(p) for p in [workbook, *deny]}),
              "allow": _allowed_reads(workbook), "memory": int(limit.memory_gib * 2**30),
              "network": network_mode()}
    python_path = [str(site)] + ([str(workbook)] if (workbook / "reglab" / "__init__.py").is_file() else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
    env.update({name: str(path) for name, path in homes.items()})
    env.update({STUDENT_VARIABLE: student, LOG_VARIABLE: str(log), POLICY_VARIABLE: json.dumps(policy),
                "PYTHONPATH": os.pathsep.join(python_path + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                "PYTHONDONTWRITEBYTECODE": "1", "JUPYTER_RUNTIME_DIR": str(scratch / ".reglab" / "runtime")})
    return env


def _manager(scratch: Path) -> Any:
    from jupyter_client.manager import AsyncKernelManager

    prefix = ["unshare", "-rn"] if network_mode() == "namespace" else []

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return prefix + super().format_kernel_cmd(extra_arguments)

    return SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / ".reglab" / "k"),
                                  connection_file=str(scratch / ".reglab" / "kernel.json"))


def _client(nb: Any, km: Any, folder: Path, limit: Limits) -> Any:
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Keeps at most ``OUTPUT_BYTES`` of output per cell."""

        def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
            size = len(json.dumps(msg.get("content", {}), default=str))
            used = self._used.get(cell_index, 0)
            self._used[cell_index] = used + size
            if used + size > OUTPUT_BYTES and msg.get("msg_type") != "error":
                return None
            return super().output(outs, msg, display_id, cell_index)

    client = CappedClient(
        nb, km=km, timeout=limit.cell_timeout, allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": f"the cell ran over {limit.cell_timeout} s",
                          "traceback": []},
        extra_arguments=["--log-level=ERROR"], resources={"metadata": {"path": str(folder)}})
    client._used = {}
    return client


def _group_rss(pgid: int) -> int:
    """Resident bytes of every process in the process group ``pgid``."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return total


class _Watchdog(threading.Thread):
    """Kills the process group ``pgid`` past the time limit or the memory limit."""

    def __init__(self, pgid: int, limit: Limits) -> None:
        super().__init__(daemon=True)
        self.pgid, self.limit, self.reason = pgid, limit, None
        self.done = threading.Event()
        self.deadline = time.monotonic() + limit.timeout

    def run(self) -> None:
        while not self.done.wait(0.25):
            if time.monotonic() > self.deadline:
                self.reason = "time"
            elif _group_rss(self.pgid) > self.limit.memory_gib * 2**30:
                self.reason = "memory"
            if self.reason:
                kill_group(self.pgid)
                return


@validated(pgid=Integer(minimum=1))
def kill_group(pgid: int) -> None:
    """SIGKILL the process group ``pgid`` (nothing if it is gone)."""
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def _read_log(log: Path, offset: int) -> tuple[list[dict], int]:
    with open(log, "rb") as handle:
        handle.seek(offset)
        data = handle.read(LOG_BYTES)
        end = handle.seek(0, os.SEEK_END)
    records = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records, end


def _error_of(cell: Any) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return {"ename": str(output.get("ename", "Error")), "evalue": str(output.get("evalue", "")),
                    "traceback": [str(t) for t in output.get("traceback", [])][-40:]}
    return None


@validated(nb=InstanceOf("builtins:dict", example=lambda: __import__("nbformat").v4.new_notebook()),
           indices=ListOf(Integer(minimum=0)), folder=PathLike(), scratch=PathLike(),
           env=MappingOf(Text(empty=True)), limit=_LIMITS)
def execute(nb: Any, indices: list[int], *, folder: Path, scratch: Path, env: dict[str, str],
            limit: Limits) -> Run:
    """Run the cells ``indices`` of ``nb`` (in order) in a fresh sandboxed kernel in ``folder``.

    ``scratch`` is the folder ``prepare`` laid out and ``env`` the environment it returned.
    The kernel's process group is killed at the end, whatever happened.
    """
    from nbclient.exceptions import DeadKernelError

    started = time.monotonic()
    run = Run()
    log = Path(env[LOG_VARIABLE])
    km = _manager(scratch)
    client = _client(nb, km, folder, limit)
    watchdog = None
    offset = 0
    try:
        with client.setup_kernel(env=env):
            pgid = km.provisioner.pgid or km.provisioner.process.pid
            watchdog = _Watchdog(pgid, limit)
            watchdog.start()
            for index in indices:
                cell = nb["cells"][index]
                began = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    run.stopped, run.stopped_at = watchdog.reason or "died", index
                    break
                seconds = time.monotonic() - began
                records, offset = _read_log(log, offset)
                error, timed_out = _error_of(cell), seconds >= limit.cell_timeout
                if timed_out and error is None:  # interrupted, the interrupt swallowed
                    error = {"ename": "CellTimeout", "evalue": "", "traceback": []}
                run.cells[index] = CellRun(index, seconds, error, records, timed_out)
                if watchdog.reason:
                    run.stopped, run.stopped_at = watchdog.reason, index
                    break
            watchdog.done.set()
            kill_group(pgid)
    except (RuntimeError, OSError, TimeoutError) as err:  # the kernel never started or hung up
        if run.stopped is None:
            run.stopped = "time" if watchdog is not None and watchdog.reason == "time" else "died"
            run.stopped_at = next((i for i in indices if i not in run.cells), None)
        if watchdog is None:
            run.stopped_at = indices[0] if indices else None
            run.cells.clear()
            run.stopped = "died"
        _ = err
    finally:
        if watchdog is not None:
            watchdog.done.set()
            kill_group(watchdog.pgid)
    run.seconds = time.monotonic() - started
    return run
