"""Execute notebooks top to bottom in a fresh kernel and store their outputs, as nbval sees them.

    python tools/run_notebooks.py notebooks/05_keras.ipynb [more.ipynb ...]
    python3 tasks.py notebooks [PATH ...]                  (the same, in .venv; default: all)

Runs each notebook with nbclient in the test environment (``tests/support/kernel_env.py``:
quiet TensorFlow, determinism, the network guard), in the notebook's folder, with cells tagged
``raises-exception`` allowed to fail.  Each cell's consecutive stream outputs are merged (and
carriage returns applied) by nbconvert's ``CoalesceStreamsPreprocessor``, as nbval merges them
before it compares: how a kernel splits a cell's printing into messages depends on timing.  The
Solutions' ``key.declare`` calls are recorded and stored in the answer key (``key/answers.json``)
and the shipped feedback (``reglab/feedback.json``) by ``reglab.classroom.key.write``.  The
result is normalized with ``nbstripout --keep-output --keep-count`` and written only if every
cell ran: on failure the file on disk is left as it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reglab.classroom import key  # noqa: E402
from reglab.files import staged  # noqa: E402
from tests.support import kernel_env  # noqa: E402


def execute(path: Path, timeout: int) -> float:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reglab-key-") as folder:
        records = Path(folder) / "declarations.jsonl"
        records.touch()
        # The Solutions' key.declare(...) calls append the answer key to `records`.
        os.environ.update({key.RECORD_VARIABLE: str(records), key.NOTEBOOK_VARIABLE: path.name})
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            for name in (key.RECORD_VARIABLE, key.NOTEBOOK_VARIABLE):
                os.environ.pop(name, None)
        declared = key.write(records, path.name, ROOT)
    seconds = time.perf_counter() - started
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if counts != list(range(1, len(counts) + 1)):
        raise RuntimeError(f"{path.name}: execution counts are not 1..n: {counts}")
    # Written beside the notebook and renamed over it only when complete (reglab.files.staged).
    with staged(path, folder=False) as tmp:
        nbformat.write(nb, tmp)
        subprocess.run(
            [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(tmp)], check=True
        )
    print(f"{path.name}: {declared} exercise{'s' if declared != 1 else ''} in the answer key")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    kernel_env.prepare()
    failed = 0
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"{path}: not a notebook file", file=sys.stderr)
            failed += 1
            continue
        try:
            seconds = execute(path.resolve(), args.timeout)
        except Exception as err:  # report and go on with the next notebook
            print(f"FAILED {path.name}: {type(err).__name__}: {str(err)[-2000:]}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path.name}: executed in {seconds:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
