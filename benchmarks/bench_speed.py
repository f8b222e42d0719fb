"""Speed benchmark: how far each way of training EasyNet is from the compute floor.

    python3 tasks.py bench                 (runs this file in the project's environment)
    python3 tasks.py bench --suite         (also times the whole test suite: several minutes)
    python3 tasks.py bench --runs 7        (median of 7 timed epochs instead of 5)

Prints, in one run on this machine:

1. the matmul throughput of TensorFlow here, for EasyNet's shapes and for a large product;
2. the compute floor of one EasyNet epoch (4,000 images, batch 50): forward + backward FLOPs
   divided by that throughput;
3. one epoch of EasyNet (784-200-200-10, tanh, L2 on the kernels, Adam, the shared initial
   weights) with Keras ``fit``, ``fit`` with XLA and ``steps_per_execution``, a custom
   ``tf.function`` loop (with and without XLA, per step and whole epoch) and a TF1 session
   loop, each as seconds and as a ratio to the floor (warm-up and tracing excluded, median of
   ``--runs`` epochs);
4. the floor of the test suite, notebooks x (kernel start + TensorFlow import) / 2 workers,
   and with ``--suite`` the measured ``python3 tasks.py test`` against it;
5. the explorer at the logic level: the first figure of a fresh explorer (engine compile
   included), a new lambda (train + render, median of slider steps), a cached one (render);
   then the same with both cores kept busy by two spinning processes that the script starts
   and stops (each also stops by itself after two minutes);
6. the doctor's command line, ``python -m reglab doctor FILE`` and ``--json``, on a tiny model and
   on ResNet50 (``keras.applications``, weights=None, 64x64 input, L2 added through
   ``get_config()``), each as seconds and as a ratio to ``python -c "import keras"`` (what any
   command that reads a Keras file pays first), with the peak resident memory of each run.

Not a test: nothing is asserted; figures depend on the machine and on what else runs on it.
Runs without TensorFlow's op determinism (which ``reglab.setup()`` turns on for the notebooks):
with it, Keras silently drops ``jit_compile=True`` from ``fit``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reglab  # noqa: E402
import reglab.session  # noqa: E402
from reglab import data, easynet  # noqa: E402

N_TRAIN, BATCH = 4000, 50
STEPS = N_TRAIN // BATCH
REG = 1e-3  # slim scale used across the workbook; Keras l2(REG / 2)
SIZES = easynet.SIZES
FLOPS_FORWARD = 2 * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:], strict=True))  # per sample
FLOPS_EPOCH = 3 * FLOPS_FORWARD * N_TRAIN  # forward + backward (about twice the forward)


def median_time(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def line(label: str, seconds: float, floor: float | None = None, extra: str = "") -> None:
    ratio = f"{seconds / floor:8.1f}x" if floor else " " * 9
    print(f"  {label:<52} {seconds:9.3f} s {ratio}  {extra}", flush=True)


# ----------------------------------------------------------------------------------------------
# 1-2. matmul throughput and the floor
# ----------------------------------------------------------------------------------------------


def matmul_throughput(tf) -> tuple[float, float]:  # noqa: ANN001
    """GFLOP/s of [50,784]x[784,200] (100 in one graph call) and of a 2048^3 product."""
    a = tf.random.uniform([BATCH, 784])
    b = tf.random.uniform([784, 200])

    @tf.function
    def many(a, b):  # noqa: ANN001, ANN202
        acc = tf.zeros([BATCH, 200])
        for _ in tf.range(100):
            acc += tf.matmul(a, b)
        return acc

    small = median_time(lambda: many(a, b).numpy(), runs=7, warmup=2)
    small_gflops = 100 * 2 * BATCH * 784 * 200 / small / 1e9
    n = 2048
    x = tf.random.uniform([n, n])
    big = median_time(lambda: tf.matmul(x, x).numpy(), runs=5, warmup=1)
    return small_gflops, 2 * n**3 / big / 1e9


# ----------------------------------------------------------------------------------------------
# 3. one epoch of EasyNet, five ways
# ----------------------------------------------------------------------------------------------


def load_data() -> tuple[np.ndarray, np.ndarray]:
    split = data.load_dataset("mnist_subset")
    order = data.epoch_order(N_TRAIN, 0, seed=0)
    return split.x_train[order], split.y_train[order]


def keras_model(keras, w0: list[np.ndarray]):  # noqa: ANN001, ANN201
    reg = keras.regularizers.l2(REG / 2)  # == slim l2_regularizer(REG)
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(200, activation="tanh", kernel_regularizer=reg),
        keras.layers.Dense(200, activation="tanh", kernel_regularizer=reg),
        keras.layers.Dense(10, kernel_regularizer=reg),
    ])
    model.set_weights(w0)
    return model


class EpochTimer:
    """A Keras callback recording each epoch's wall time."""

    def __init__(self, keras) -> None:  # noqa: ANN001
        timer = self

        class _Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):  # noqa: ANN001, ANN202
                timer.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):  # noqa: ANN001, ANN202
                timer.times.append(time.perf_counter() - timer.started)

        self.times: list[float] = []
        self.started = 0.0
        self.callback = _Callback()


def keras_fit(tf, keras, x, y, w0, runs: int, *, jit: bool, steps_per_execution: int = 1) -> float:  # noqa: ANN001
    model = keras_model(keras, w0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
        steps_per_execution=steps_per_execution,
    )
    timer = EpochTimer(keras)
    model.fit(x, y, batch_size=BATCH, epochs=1 + runs, shuffle=False, verbose=0,
              callbacks=[timer.callback])
    return statistics.median(timer.times[1:])  # the first epoch traces and compiles


def custom_loop(tf, keras, x, y, w0, runs: int, *, jit: bool, whole_epoch: bool) -> float:  # noqa: ANN001
    model = keras_model(keras, w0)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    variables = model.trainable_variables

    def step(xb, yb):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True)) + tf.add_n(model.losses)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    if whole_epoch:
        xs = tf.constant(x.reshape(STEPS, BATCH, 784))
        ys = tf.constant(y.reshape(STEPS, BATCH))

        @tf.function(jit_compile=jit)
        def epoch():  # noqa: ANN202
            for i in tf.range(STEPS):
                step(xs[i], ys[i])

        run = lambda: epoch()  # noqa: E731
    else:
        compiled = tf.function(step, jit_compile=jit)
        batches = [(tf.constant(x[i:i + BATCH]), tf.constant(y[i:i + BATCH]))
                   for i in range(0, N_TRAIN, BATCH)]

        def run() -> None:
            for xb, yb in batches:
                compiled(xb, yb)

    def timed() -> None:
        run()
        variables[0].numpy()  # wait for the work to finish

    return median_time(timed, runs=runs, warmup=1)


def tf1_session(tf, x, y, w0, runs: int) -> float:  # noqa: ANN001
    """TF1 style: placeholders, feed_dict, tf.compat.v1.train.AdamOptimizer, one run per batch."""
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        xb = v1.placeholder(tf.float32, [None, 784])
        yb = v1.placeholder(tf.int64, [None])
        h, kernels = xb, []
        for i in range(3):
            kernel = v1.get_variable(f"k{i}", initializer=w0[2 * i])
            bias = v1.get_variable(f"b{i}", initializer=w0[2 * i + 1])
            kernels.append(kernel)
            h = tf.matmul(h, kernel) + bias
            if i < 2:
                h = tf.tanh(h)
        data_loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=h)
        )
        loss = data_loss + REG * tf.add_n([tf.nn.l2_loss(k) for k in kernels])
        train_op = v1.train.AdamOptimizer(1e-3).minimize(loss)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        batches = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, N_TRAIN, BATCH)]

        def run() -> None:
            for xs, ys in batches:
                sess.run(train_op, feed_dict={xb: xs, yb: ys})

        return median_time(run, runs=runs, warmup=1)


# ----------------------------------------------------------------------------------------------
# 4. the test suite's floor
# ----------------------------------------------------------------------------------------------


def kernel_start_and_tf_import() -> float:
    """Seconds to start an IPython kernel and run ``import tensorflow`` in it."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel(
        kernel_name="python3", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        reply = client.execute_interactive(
            "import tensorflow", timeout=300, output_hook=lambda msg: None
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        return time.perf_counter() - started
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def time_suite() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "tasks.py", "test"], cwd=ROOT, check=False)
    return time.perf_counter() - started


# ----------------------------------------------------------------------------------------------
# 5. the explorer
# ----------------------------------------------------------------------------------------------


def explorer_latency(dataset: str, runs: int) -> dict[str, float]:
    """Seconds for the explorer's first figure (with the compile), a new lambda, a cached one.

    ``first``: a fresh ``Explorer``'s first ``update`` + ``render_png`` (data, engine trace and
    XLA compile, the setting and its unpenalized reference, the frame); ``new``: median (train +
    render) of fresh slider steps, ``train`` the training part of it; ``cached``: median render
    of the same steps from the cache.
    """
    from reglab.explorer import Explorer

    ex = Explorer()
    started = time.perf_counter()
    ex.render_png(ex.update(dataset=dataset, kind="l2", lam=1e-5))
    first = time.perf_counter() - started
    lams = [10 ** (-4.75 + 0.25 * k) for k in range(runs)]
    full, trained = [], []
    for lam in lams:
        started = time.perf_counter()
        ex.render_png(ex.update(lam=lam))
        full.append(time.perf_counter() - started)
        trained.append(ex.current.seconds)
    cached = []
    for lam in lams:
        started = time.perf_counter()
        ex.render_png(ex.update(lam=lam))
        cached.append(time.perf_counter() - started)
    return {"first": first, "new": statistics.median(full), "train": statistics.median(trained),
            "cached": statistics.median(cached)}


@contextlib.contextmanager
def busy_cores(count: int, seconds: float = 120.0) -> Iterator[None]:
    """``count`` processes spinning ``while True: pass`` (each ends by itself after ``seconds``)."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]
    try:
        time.sleep(1.0)  # let the scheduler see them
        yield
    finally:
        for proc in spinners:
            proc.kill()
        for proc in spinners:
            proc.wait()


def explorer_section(runs: int) -> None:
    print("\n5. the explorer (logic level: Explorer.update + render_png, what a slider step costs)")
    for loaded in (False, True):
        context = busy_cores(2) if loaded else contextlib.nullcontext()
        note = "  [2 busy processes]" if loaded else ""
        with context:
            for dataset in ("toy2d", "digits"):
                times = explorer_latency(dataset, max(runs, 5))
                line(f"{dataset}: first figure, fresh explorer (compile){note}", times["first"])
                line(f"{dataset}: new lambda (train + render){note}", times["new"],
                     extra="target < 1 s")
                line(f"{dataset}:   of which training{note}", times["train"])
                line(f"{dataset}: lambda in the cache / prefetched (render){note}", times["cached"])


def _timed_run(args: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MiB of one ``python ARGS`` run (``os.wait4``: that child's own)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} exited with {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024


def _doctor_models(folder: Path) -> dict[str, Path]:
    code = f"""
import keras
l2 = keras.regularizers.l2(0.01)
tiny = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_regularizer=l2),
                         keras.layers.Dense(2)])
tiny.compile(optimizer="adam", loss="mse")
tiny.save({str(folder / "tiny.keras")!r})
net = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
config = net.get_config()
for layer in config["layers"]:
    if layer["class_name"] in ("Conv2D", "Dense"):
        layer["config"]["kernel_regularizer"] = keras.regularizers.serialize(keras.regularizers.l2(1e-4))
net = keras.Model.from_config(config)
net.compile(optimizer=keras.optimizers.AdamW(weight_decay=1e-4), loss="sparse_categorical_crossentropy")
net.save({str(folder / "resnet50.keras")!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return {"tiny": folder / "tiny.keras", "ResNet50": folder / "resnet50.keras"}


def doctor_section(runs: int) -> None:
    import tempfile

    print('\n6. reglab doctor FILE: seconds, and ratio to `python -c "import keras"` (median, peak RSS)')
    with tempfile.TemporaryDirectory() as folder:
        models = _doctor_models(Path(folder))
        keras_runs = [_timed_run(["-c", "import keras"]) for _ in range(runs)]
        base = statistics.median(r[0] for r in keras_runs)
        peak = max(r[1] for r in keras_runs)
        line('python -c "import keras"', base, base, extra=f"peak RSS {peak:,.0f} MiB")
        for name, path in models.items():
            for extra in ([], ["--json"]):
                results = [_timed_run(["-m", "reglab", "doctor", str(path), *extra]) for _ in range(runs)]
                seconds = statistics.median(r[0] for r in results)
                line(f"reglab doctor {name}.keras {' '.join(extra)}".rstrip(), seconds, base,
                     extra=f"peak RSS {max(r[1] for r in results):,.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed epochs per variant (median)")
    parser.add_argument("--suite", action="store_true",
                        help="also time `python3 tasks.py test` (several minutes)")
    parser.add_argument("--doctor-only", action="store_true",
                        help="only section 6, the doctor's command line (about a minute)")
    parser.add_argument("--explorer-only", action="store_true",
                        help="only section 5, the explorer (about 40 s)")
    args = parser.parse_args(argv)

    # Quiet logs, but no op determinism: Keras ignores jit_compile=True (with a warning) while
    # it is on, as reglab.setup() and TF_DETERMINISTIC_OPS=1 (the notebooks' env) turn it on.
    os.environ["TF_DETERMINISTIC_OPS"] = "0"
    reglab.session.quiet_logs()
    import keras
    import tensorflow as tf

    tf.random.set_seed(0)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"reglab speed benchmark: TF {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}, median of {args.runs}")
    if args.explorer_only:
        explorer_section(args.runs)
        return 0
    if args.doctor_only:
        doctor_section(min(args.runs, 3))
        return 0

    print("\n1. matmul throughput")
    small, peak = matmul_throughput(tf)
    print(f"  [50,784]x[784,200] (EasyNet's first layer): {small:7.1f} GFLOP/s")
    print(f"  [2048,2048]x[2048,2048] (peak):              {peak:7.1f} GFLOP/s")

    floor = FLOPS_EPOCH / (small * 1e9)
    floor_peak = FLOPS_EPOCH / (peak * 1e9)
    print(f"\n2. compute floor of one EasyNet epoch: {FLOPS_EPOCH / 1e9:.2f} GFLOP "
          f"(3 x {FLOPS_FORWARD:,} FLOP per image forward, x {N_TRAIN:,} images)")
    line("floor at EasyNet-shaped matmul speed (ratios below)", floor)
    line("floor at peak matmul speed", floor_peak)

    print(f"\n3. one epoch of EasyNet ({STEPS} steps of batch {BATCH}, Adam, L2 on kernels)")
    x, y = load_data()
    w0 = easynet.initial_weights(seed=0)
    variants = [
        ("Keras fit", lambda: keras_fit(tf, keras, x, y, w0, args.runs, jit=False)),
        ("Keras fit, jit_compile, steps_per_execution=80",
         lambda: keras_fit(tf, keras, x, y, w0, args.runs, jit=True, steps_per_execution=STEPS)),
        ("custom loop, tf.function per step",
         lambda: custom_loop(tf, keras, x, y, w0, args.runs, jit=False, whole_epoch=False)),
        ("custom loop, tf.function(jit_compile) per step",
         lambda: custom_loop(tf, keras, x, y, w0, args.runs, jit=True, whole_epoch=False)),
        ("custom loop, whole epoch in one tf.function + XLA",
         lambda: custom_loop(tf, keras, x, y, w0, args.runs, jit=True, whole_epoch=True)),
        ("TF1 graph + Session.run(feed_dict) per step",
         lambda: tf1_session(tf, x, y, w0, args.runs)),
    ]
    best = None
    for label, run in variants:
        try:
            seconds = run()
        except Exception as err:  # report and go on: one broken variant must not hide the rest
            print(f"  {label:<52} failed: {type(err).__name__}: {str(err)[:120]}")
            continue
        line(label, seconds, floor)
        if best is None or seconds < best[1]:
            best = (label, seconds)
    if best:
        verdict = "within" if best[1] <= 3 * floor else "NOT within"
        print(f"  fastest: {best[0]} at {best[1] / floor:.1f}x the floor ({verdict} 3x)")

    print("\n4. the test suite")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    start = kernel_start_and_tf_import()
    suite_floor = len(notebooks) * start / 2
    line("kernel start + import tensorflow (one kernel)", start)
    line(f"floor: {len(notebooks)} notebooks x that / 2 workers", suite_floor)
    if args.suite:
        seconds = time_suite()
        line("python3 tasks.py test (measured)", seconds, suite_floor)
    else:
        print("  (run with --suite to time `python3 tasks.py test` against this floor)")

    explorer_section(args.runs)
    doctor_section(min(args.runs, 3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
