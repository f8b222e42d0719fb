"""Run the ``tf_layers`` approach in a process of its own, with ``TF_USE_LEGACY_KERAS=1``.

    python -m reglab._legacy_worker '{"approach": "tf_layers", "lam": 0.001, "epochs": 2, ...,
                                      "weights_path": "/tmp/.../weights.npz"}'

``tf.compat.v1.layers`` only works when tf-keras 2 backs ``tf.keras``, which TensorFlow decides
when it is first imported; a notebook that has already imported TensorFlow with Keras 3 cannot
switch.  ``reglab.approaches.tf_layers`` therefore starts this module.  It prints one JSON line
per epoch (``{"epoch": ..., "data_loss": ..., "penalty": ...}``), then ``{"result": ...}`` with
the ``SweepResult`` fields, and saves the final weights to ``weights_path`` (``numpy.savez``).
"""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before anything imports TensorFlow

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Train as ``argv[0]`` (JSON settings of ``reglab.approaches.train``) says; print JSON lines."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m reglab._legacy_worker JSON_SETTINGS", file=sys.stderr)
        return 2
    settings = json.loads(argv[0])
    weights_path = settings.pop("weights_path")

    from reglab import approaches
    from reglab.repro import quiet_logs

    quiet_logs()
    if not approaches._legacy_keras_active():  # never start a worker from a worker
        print("tf.keras is not tf-keras 2 here: is the tf-keras package installed?", file=sys.stderr)
        return 1

    def on_epoch(epoch: int, data_loss: float, penalty: float) -> None:
        print(json.dumps({"epoch": epoch, "data_loss": data_loss, "penalty": penalty}), flush=True)

    result = approaches.train(**settings, on_epoch=on_epoch)
    np.savez(weights_path, *result.weights)
    print(json.dumps({"result": result.to_dict()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
