"""Test-session plumbing shared by the unit tests and the notebooks (nbval).

* Sets the notebook environment (``tests/support/kernel_env.py``) before any kernel starts.
* Blocks the network in the test processes and in every kernel; any attempt, even one a
  library swallowed, fails the run.
* Adds to every notebook a last item, "Run All again", that executes all its cells a second
  time in the same kernel: re-running a notebook must work.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from queue import Empty

import pytest

from tests.support import kernel_env, network_guard

RERUN_TIMEOUT = 300


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # controller (or a run without xdist)
        log = Path(tempfile.mkdtemp(prefix="reglab-net-")) / "attempts.log"
        log.touch()
        kernel_env.prepare(str(log))
    network_guard.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return
    log = os.environ.get("REGLAB_NETWORK_LOG")
    if log and Path(log).exists():
        attempts = Path(log).read_text().strip()
        if attempts:
            print("\nNetwork access was attempted during the tests:\n" + attempts)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


FULL_TRACEBACKS = "get_ipython().InteractiveTB.set_mode('Context')"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _traceback_tail(reply: dict, lines: int = 12) -> str:
    """The last lines of a kernel's traceback, without colour codes: which line failed."""
    text = ANSI.sub("", "\n".join(reply.get("traceback", [])))
    return "\n".join(text.splitlines()[-lines:])


class RerunAll(pytest.Item):
    """Execute every code cell of a notebook again in the kernel nbval already ran it in."""

    def runtest(self) -> None:
        nbfile = self.parent
        kernel = nbfile.kernel
        if kernel is None or not kernel.is_alive():
            pytest.skip("the notebook's kernel is not running (a cell failed earlier)")
        for index, cell in enumerate(c for c in nbfile.nb.cells if c.cell_type == "code"):
            tags = cell.metadata.get("tags", [])
            if "nbval-skip" in tags or "# NBVAL_SKIP" in cell.source:
                continue
            # Full tracebacks for this run (setup() asks for minimal ones), so that a failure
            # below names the line that failed, not just "AssertionError".
            mode_id = kernel.kc.execute(FULL_TRACEBACKS, silent=True, store_history=False)
            self._reply(kernel, mode_id)
            kernel.await_idle(mode_id, RERUN_TIMEOUT)
            msg_id = kernel.execute_cell_input(cell.source, allow_stdin=False)
            reply = self._reply(kernel, msg_id)
            kernel.await_idle(msg_id, RERUN_TIMEOUT)
            raises = "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in cell.source
            if reply["status"] == "error" and not raises:
                raise AssertionError(
                    f"code cell {index} fails when the notebook is run a second time in the "
                    f"same kernel: {reply.get('ename')}: {reply.get('evalue')}\n"
                    + _traceback_tail(reply)
                )
            if reply["status"] == "ok" and raises:
                raise AssertionError(
                    f"code cell {index} is marked to raise but did not on the second run"
                )

    @staticmethod
    def _reply(kernel, msg_id: str) -> dict:  # noqa: ANN001
        while True:
            try:
                msg = kernel.get_message(stream="shell", timeout=RERUN_TIMEOUT)
            except Empty:
                raise AssertionError("timed out re-running the notebook") from None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def reportinfo(self):  # noqa: ANN201
        return self.path, 0, f"{self.parent.name}::Run All again"


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):  # noqa: ANN201
    collectors = yield
    for collector in collectors or []:
        if type(collector).__name__ == "IPyNbFile":
            original = collector.collect

            def collect(original=original, collector=collector):  # noqa: ANN001, ANN202
                yield from original()
                yield RerunAll.from_parent(collector, name="Run All again")

            collector.collect = collect
    return collectors
