"""Run one trainer of ``reglab.sweep.approaches`` in a process of its own, with ``TF_USE_LEGACY_KERAS=1``.

    python -m reglab.sweep.worker '{"settings": {"approach": "tf_layers", "lam": 0.001, ...},
                                      "start_weights_path": ".../start.npz",
                                      "weights_path": ".../weights.npz"}'

``tf.compat.v1.layers`` only works when tf-keras 2 backs ``tf.keras``, which TensorFlow decides
when it is first imported; a notebook that has already imported TensorFlow with Keras 3 cannot
switch.  ``reglab.sweep.approaches.tf_layers`` therefore starts this module (``reglab.sweep.legacy``
is the client).  It rebuilds the run with ``make_run(**settings)`` started from the weights in
``start_weights_path``, prints one JSON line per epoch (``{"epoch": ..., "data_loss": ...,
"penalty": ...}``), then ``{"result": ...}`` with the ``SweepResult`` fields, and saves the
final weights to ``weights_path``.
"""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before anything imports TensorFlow

import json  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Train as ``argv[0]`` (the JSON message of ``reglab.sweep.legacy``) says; print JSON lines."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m reglab.sweep.worker JSON_MESSAGE", file=sys.stderr)
        return 2
    message = json.loads(argv[0])

    from reglab.session import quiet_logs
    from reglab.sweep.approaches import APPROACHES
    from reglab.sweep.legacy import legacy_keras_active, load_weights, save_weights
    from reglab.sweep.run import make_run

    quiet_logs()
    if not legacy_keras_active():  # never start a worker from a worker
        print("tf.keras is not tf-keras 2 here: is the tf-keras package installed?", file=sys.stderr)
        return 1

    def on_epoch(epoch: int, data_loss: float, penalty: float) -> None:
        print(json.dumps({"epoch": epoch, "data_loss": data_loss, "penalty": penalty}), flush=True)

    run = make_run(**message["settings"], on_epoch=on_epoch)
    run = run.with_weights(load_weights(message["start_weights_path"]))
    result = APPROACHES[run.approach](run)
    save_weights(message["weights_path"], result.weights)
    print(json.dumps({"result": result.to_dict()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
