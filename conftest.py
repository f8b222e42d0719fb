"""Test-session plumbing shared by the unit tests and the notebooks (nbval).

* Sets the notebook environment (``tests/support/kernel_env.py``) before any kernel starts.
* Blocks the network in the test processes and in every kernel; any attempt, even one a
  library swallowed, fails the run.
* Adds to every notebook a last item, "Run All again, solutions pasted", that executes all its
  code cells a second time in the same kernel, each exercise cell replaced by its solution (as
  a student who pastes the Solutions would run it): re-running a notebook must work, and every
  exercise's check must then say "correct".  One execution proves both (the class tools'
  ``reglab.classroom.workbook.find_exercises`` pairs the cells).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from queue import Empty

import pytest

from reglab.checks import LOG_VARIABLE
from reglab.classroom.workbook import find_exercises
from tests.support import kernel_env, network_guard

RERUN_TIMEOUT = 300
#: Tests that drive a real browser: marked ``slow`` (``tasks.py test --fast`` leaves them out).
BROWSER_TESTS = Path(__file__).resolve().parent / "tests" / "browser"


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.slow)


FULL_TRACEBACKS = "get_ipython().InteractiveTB.set_mode('Context')"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _traceback_tail(reply: dict, lines: int = 12) -> str:
    """The last lines of a kernel's traceback, without colour codes: which line failed."""
    text = ANSI.sub("", "\n".join(reply.get("traceback", [])))
    return "\n".join(text.splitlines()[-lines:])


class RerunAll(pytest.Item):
    """Execute every code cell again in nbval's kernel, exercise cells holding their solutions."""

    def runtest(self) -> None:
        nbfile = self.parent
        kernel = nbfile.kernel
        if kernel is None or not kernel.is_alive():
            pytest.skip("the notebook's kernel is not running (a cell failed earlier)")
        cells = nbfile.nb.cells
        sources = [cell.source for cell in cells]
        exercises = find_exercises(nbfile.nb)
        for ex in exercises:
            if ex.solution_cell is None:
                raise AssertionError(f"exercise {ex.label!r} has no cell in the Solutions section")
            sources[ex.exercise_cell] = cells[ex.solution_cell].source
        log = Path(tempfile.mkdtemp(prefix="reglab-checks-")) / "checks.jsonl"
        # the checks report to `log` (see reglab.checks)
        self._silent(kernel, f"import os as _os\n_os.environ[{LOG_VARIABLE!r}] = {str(log)!r}\ndel _os")
        try:
            for index, cell in enumerate(cells):
                if cell.cell_type == "code":
                    self._rerun(kernel, index, cell, sources[index])
        finally:
            self._silent(kernel, f"import os as _os\n_os.environ.pop({LOG_VARIABLE!r}, None)\ndel _os")
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        for ex in exercises:
            statuses = {r["status"] for r in records if r["exercise"] == ex.label}
            if statuses != {"correct"}:
                raise AssertionError(f"with its solution pasted, exercise {ex.label!r} is "
                                     f"{sorted(statuses) or 'never checked'}, not correct")

    def _silent(self, kernel, code: str) -> None:  # noqa: ANN001
        msg_id = kernel.kc.execute(code, silent=True, store_history=False)
        self._reply(kernel, msg_id)
        kernel.await_idle(msg_id, RERUN_TIMEOUT)

    def _rerun(self, kernel, index: int, cell, source: str) -> None:  # noqa: ANN001
        tags = cell.metadata.get("tags", [])
        if "nbval-skip" in tags or "# NBVAL_SKIP" in source:
            return
        # Full tracebacks (reglab.setup(), in the first cell, asks for minimal ones), so that a
        # failure below names the line that failed.
        self._silent(kernel, FULL_TRACEBACKS)
        msg_id = kernel.execute_cell_input(source, allow_stdin=False)
        reply = self._reply(kernel, msg_id)
        kernel.await_idle(msg_id, RERUN_TIMEOUT)
        raises = "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in source
        if reply["status"] == "error" and not raises:
            raise AssertionError(
                f"cell {index} fails when the notebook is run a second time in the same kernel "
                f"(exercise cells holding their solutions): {reply.get('ename')}: "
                f"{reply.get('evalue')}\n" + _traceback_tail(reply))
        if reply["status"] == "ok" and raises:
            raise AssertionError(f"cell {index} is marked to raise but did not on the second run")

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
        return self.path, 0, f"{self.parent.name}::{self.name}"


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):  # noqa: ANN201
    collectors = yield
    for collector in collectors or []:
        if type(collector).__name__ == "IPyNbFile":
            original = collector.collect

            def collect(original=original, collector=collector):  # noqa: ANN001, ANN202
                yield from original()
                yield RerunAll.from_parent(collector, name="Run All again, solutions pasted")

            collector.collect = collect
    return collectors
