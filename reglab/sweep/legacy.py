"""The client side of ``reglab.sweep.worker``: run a trainer in a process with tf-keras 2.

``tf.compat.v1.layers`` needs ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is first imported; a
process that already imported it with Keras 3 cannot switch.  ``run_in_legacy_process`` starts
``python -m reglab.sweep.worker`` with the run's settings and its start weights (an ``.npz``
file), relays the per-epoch JSON lines to ``run.on_epoch`` and rebuilds the ``SweepResult``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reglab.session import NOTEBOOK_ENV
from reglab.sweep.results import SweepResult
from reglab.sweep.run import Run


def legacy_keras_active() -> bool:
    """True if this process runs ``tf.keras`` as tf-keras 2 (``TF_USE_LEGACY_KERAS=1`` at import)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() not in ("1", "true"):
        return False
    from reglab.sweep.shared import tf

    return tf.keras.__name__.startswith("tf_keras")


def save_weights(path: str | Path, weights: list[np.ndarray]) -> None:
    """Save ``[k0, b0, ...]`` to ``path`` (``numpy.savez``, in order)."""
    np.savez(path, *weights)


def load_weights(path: str | Path) -> list[np.ndarray]:
    """The list ``save_weights`` saved, in order."""
    with np.load(path) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


def run_in_legacy_process(run: Run) -> SweepResult:
    """Run ``run`` in ``python -m reglab.sweep.worker`` and rebuild its result."""
    env = {**os.environ, **NOTEBOOK_ENV, "TF_USE_LEGACY_KERAS": "1"}
    package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds reglab/
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="reglab-legacy-") as tmp:
        message = {
            "settings": run.settings(),
            "start_weights_path": str(Path(tmp) / "start.npz"),
            "weights_path": str(Path(tmp) / "weights.npz"),
        }
        save_weights(message["start_weights_path"], run.weights)
        err_path = Path(tmp) / "stderr.txt"
        final: dict[str, Any] | None = None
        with open(err_path, "w") as err, subprocess.Popen(
            [sys.executable, "-m", "reglab.sweep.worker", json.dumps(message)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        ) as proc:
            try:
                for line in proc.stdout:
                    if not line.startswith("{"):  # a stray line some library printed
                        continue
                    report = json.loads(line)
                    if "epoch" in report and run.on_epoch is not None:
                        run.on_epoch(report["epoch"], report["data_loss"], report["penalty"])
                    final = report.get("result", final)
            except BaseException:
                proc.kill()
                raise
        if proc.returncode != 0 or final is None:
            lines = err_path.read_text().strip().splitlines() or ["(no message)"]
            raise RuntimeError(
                f"the {run.approach} process failed (exit {proc.returncode}): {lines[-1]}")
        weights = load_weights(message["weights_path"])
    return SweepResult(**final, weights=weights)
