"""The ``reglab`` command (also ``python -m reglab``): one command line for the workbook.

    reglab penalties [--lam 1e-3] [--numpy-only] [--json]     one constant in every API
    reglab sweep [--approach tf_slim] [--lambdas 0 1e-4 1e-2 1] [--epochs 10] [--json] ...
    reglab doctor MODEL.keras [--json]                         what a saved model regularizes
    reglab check [PATH ...] [--timeout S]                      which exercises are right
    reglab student-edition DIR                                 the workbook without solutions
    reglab key [--student ID]                                  the answer key; a student's variants
    reglab new NN_topic                                        a new notebook from the template
    reglab book [--out DIR] [--repository URL] [--branch NAME] [--no-explorer]
    reglab grade SUBMISSIONS_DIR [--out DIR] [--workers N] [--timeout S] [--memory GIB]
    reglab gradescope DIR                                      a Gradescope autograder

Size: 300+ lines: one parser holds every subcommand's options and help texts.

``argparse`` reads only the syntax: numbers become ``int`` or ``float`` (text that is neither is
passed on as it is), and the values go to the subcommand's entry point, which declares and checks
them (``reglab.params``).  A bad value there, like a syntax error here, ends the command with one
line ``reglab SUBCOMMAND: error: ...`` on stderr and exit status 2; a run that cannot be done (a
dataset that needs the network, a failed ``tf_layers`` process, a class command outside a
workbook) exits with 1.  Each subcommand
imports what it needs when it runs, so ``reglab --help`` imports no TensorFlow.

``sweep`` trains EasyNet once per lambda (``reglab.sweep.approaches``) with ``lam`` in the slim
convention (``lam * sum(k**2) / 2`` per kernel for L2, ``lam * sum(|k|)`` for L1) and prints, per
lambda, the test accuracy, the final data loss and penalty and the counts of predicted classes;
a ``tqdm`` progress bar goes to stderr only when stderr is a terminal.  ``penalties`` prints the
penalty each API of ``reglab.penalties.APIS`` gives EasyNet's first start kernel for one
constant, with the values the real APIs compute beside the NumPy formulas.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from reglab.data import DATASETS
from reglab.params import Boolean, InvalidParameterError, Real, validated
from reglab.sweep import run as sweep_run


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``prog: error: ...``, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(text: str) -> Any:
    """``text`` as an int, else a float, else unchanged (the entry point then says what is wrong)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


#: The defaults of ``reglab.sweep.run.make_run`` (written there only).
_SWEEP_DEFAULTS = {name: p.default for name, p in inspect.signature(sweep_run.make_run).parameters.items()
                   if p.default is not inspect.Parameter.empty and name != "on_epoch"}


# --------------------------------------------------------------------------- penalties


def _api_values(w: Any, lam: float) -> dict[str, float]:
    """The penalty of ``w`` with the constant ``lam`` as the real APIs compute it (float32)."""
    from reglab.session import quiet_logs

    quiet_logs()
    import keras
    import tensorflow as tf
    import tf_slim

    k = tf.constant(w, dtype=tf.float32)
    calls = {
        "tf.nn.l2_loss": lambda: lam * tf.nn.l2_loss(k),
        "tf_slim.l2_regularizer": lambda: tf_slim.l2_regularizer(lam)(k) if lam else 0.0,
        "tf_slim.l1_regularizer": lambda: tf_slim.l1_regularizer(lam)(k) if lam else 0.0,
        "keras.regularizers.l2": lambda: keras.regularizers.l2(lam)(k),
        "keras.regularizers.l1": lambda: keras.regularizers.l1(lam)(k),
        "keras.regularizers.L1L2": lambda: keras.regularizers.L1L2(l1=lam, l2=lam)(k),
    }
    return {name: float(call()) for name, call in calls.items()}


@validated(lam=Real(0.0), numpy_only=Boolean(), as_json=Boolean())
def penalties_table(lam: float, *, numpy_only: bool, as_json: bool, out: TextIO) -> int:
    """Print, for EasyNet's first start kernel, the penalty each API gives with the constant ``lam``."""
    from reglab.easynet import initial_weights
    from reglab.penalties import APIS, penalty

    w = initial_weights(0)[0]
    rows = [{"api": api, "formula": formula, "numpy": penalty(api, w, lam)}
            for api, (formula, _) in APIS.items()]
    api_values = {} if numpy_only else _api_values(w, lam)
    for row in rows:
        row["tensorflow"] = api_values.get(row["api"])
    if as_json:
        json.dump({"lam": lam, "weight": "initial_weights(0)[0]", "shape": list(w.shape),
                   "rows": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"Penalty of w = initial_weights(0)[0] (shape {w.shape[0]} x {w.shape[1]}) with each "
              f"API's own constant c = lam = {lam:g}\n\n")
    width = max(len(r["api"]) for r in rows)
    out.write(f"{'API':<{width}}  {'NumPy':>10}  {'TensorFlow':>10}  formula\n")
    for r in rows:
        tf_value = "-" if r["tensorflow"] is None else f"{r['tensorflow']:.6g}"
        out.write(f"{r['api']:<{width}}  {r['numpy']:>10.6g}  {tf_value:>10}  {r['formula']}\n")
    return 0


# --------------------------------------------------------------------------- the parser


def _penalties(args: argparse.Namespace) -> int:
    return penalties_table(args.lam, numpy_only=args.numpy_only, as_json=args.json, out=sys.stdout)


def _sweep(args: argparse.Namespace) -> int:
    from reglab.sweep.table import sweep

    settings = {name: getattr(args, name) for name in
                ("approach", "epochs", "dataset", "batch_size", "learning_rate", "seed", "kind")}
    return sweep(args.lambdas, as_json=args.json, out=sys.stdout, **settings)


def _doctor(args: argparse.Namespace) -> int:
    from reglab.doctor.cli import run

    return run(args.model, as_json=args.json, out=sys.stdout, err=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import check

    return check(args.paths, timeout=args.timeout, out=sys.stdout)


def _student_edition(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import student_edition

    return student_edition(args.directory, out=sys.stdout)


def _key(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import key

    return key(student=args.student, out=sys.stdout)


def _new(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import new

    return new(args.name, out=sys.stdout)


def _book(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import book

    return book(args.out, repository=args.repository, branch=args.branch,
                explorer=not args.no_explorer, out=sys.stdout, err=sys.stderr)


def _grade(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import grade

    return grade(args.submissions, folder=args.out, workers=args.workers, timeout=args.timeout,
                 memory=args.memory, workbook=args.workbook, cell_timeout=args.cell_timeout,
                 out=sys.stdout)


def _gradescope(args: argparse.Namespace) -> int:
    from reglab.classroom.commands import gradescope

    return gradescope(args.directory, workbook=args.workbook, out=sys.stdout)


GRADE_HELP = """\
Grade a class. SUBMISSIONS_DIR holds one entry per student, named by the student's id (1 to 64
letters, digits or ._@-; other names are refused and the rest graded):
  <student>/                 a folder: its .ipynb files, anywhere inside, matched to the
                             workbook's notebooks by file name;
  <student>__NN_name.ipynb   one notebook of the workbook (several such files: one student);
  <student>.ipynb            the workbook notebook whose exercises it calls.
Each notebook runs in a fresh kernel in a scratch copy, its check cells restored from the
instructor's notebook, with the network off, a time and a memory limit and a file policy
(no writing outside its copy, no reading the instructor's key). Values are judged outside the
kernel against the instructor's reglab/feedback.json. Writes DIR/grades.csv (one row per
student, one column per exercise, a total) and DIR/feedback/<student>.md."""


def _command(commands: Any, name: str, run: Callable[[argparse.Namespace], int], summary: str,
             description: str | None = None) -> argparse.ArgumentParser:
    """Add subcommand ``name`` (``summary`` is its line in ``reglab --help``) that calls ``run(args)``."""
    parser = commands.add_parser(name, help=summary, description=description or summary)
    parser.set_defaults(run=run, parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``reglab`` parser: one subparser per subcommand, each with its options."""
    parser = Parser(prog="reglab", description="reglab: regularization in TensorFlow, TF1 to "
                    "Keras 3. The command line of the workbook.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    table = _command(commands, "penalties", _penalties, "print the penalty each API gives for one constant",
                     "The penalty each API gives EasyNet's first start kernel "
                     "(reglab.easynet.initial_weights(0)[0], 784 x 200) for one constant lam, "
                     "as each API reads it: the same number is not the same penalty.")
    table.add_argument("--lam", type=_number, default=1e-3, help="the constant (default: 1e-3)")
    table.add_argument("--numpy-only", action="store_true",
                       help="only the NumPy formulas (no TensorFlow import)")
    table.add_argument("--json", action="store_true", help="print JSON instead of a table")

    defaults = _SWEEP_DEFAULTS
    sweep_parser = _command(
        commands, "sweep", _sweep, "train EasyNet for several lambdas and compare",
        "Train EasyNet (784-200-200-10, tanh, Adam) once per lambda. Lambda follows the thread's "
        "(slim) convention: L2 penalty = lam * sum(k**2) / 2 per kernel "
        "(tf_slim.l2_regularizer(lam) = keras.regularizers.l2(lam / 2), not the explorer's "
        "keras l2(lam)); L1 penalty = lam * sum(|k|).")
    sweep_parser.add_argument("--approach", default="tf_slim", metavar="NAME",
                              help="which API trains the network: "
                              f"{', '.join(sweep_run.SUPPORTED_KINDS)} (default: tf_slim, answer 3's)")
    sweep_parser.add_argument("--lambdas", nargs="+", type=_number, default=[0.0, 1e-4, 1e-2, 1.0],
                              metavar="LAM", help="regularization strengths, slim convention "
                              "(L2: lam * sum(k**2) / 2 per kernel; default: 0 1e-4 1e-2 1); a "
                              "single negative value in scientific notation needs --lambdas=-1e-4")
    sweep_parser.add_argument("--epochs", type=_number, default=10, help="epochs (default: 10)")
    sweep_parser.add_argument("--dataset", default=defaults["dataset"], metavar="NAME",
                              help=f"{', '.join(DATASETS)} ('mnist' downloads on first use; "
                              "default: %(default)s)")
    sweep_parser.add_argument("--kind", default=defaults["kind"], metavar="KIND",
                              help="the penalty, l2 or l1 (default: %(default)s)")
    sweep_parser.add_argument("--batch-size", type=_number, default=defaults["batch_size"],
                              help="default: %(default)s")
    sweep_parser.add_argument("--learning-rate", type=_number, default=defaults["learning_rate"],
                              help="Adam's learning rate (default: %(default)s)")
    sweep_parser.add_argument("--seed", type=_number, default=defaults["seed"],
                              help="start weights and batch order (default: %(default)s)")
    sweep_parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    doctor = _command(commands, "doctor", _doctor,
                      "what a saved Keras model regularizes, by how much, and the pitfalls found",
                      "Report what is regularized in a saved Keras model, by how much, and the "
                      "pitfalls found. The file is loaded in Keras' safe mode: no code in it runs.")
    doctor.add_argument("model", metavar="MODEL.keras", help="a model saved with model.save('x.keras')")
    doctor.add_argument("--json", action="store_true", help="print the report as one JSON object")

    check = _command(commands, "check", _check, "run notebooks and say which exercises are right")
    check.add_argument("paths", nargs="*", metavar="PATH", help="notebooks (default: all)")
    check.add_argument("--timeout", type=_number, default=600, help="seconds per cell (default: 600)")

    edition = _command(commands, "student-edition", _student_edition,
                       "write the workbook without solutions, for students")
    edition.add_argument("directory", metavar="DIR", help="a new (or empty) folder")

    answers = _command(commands, "key", _key, "the answer key; --student: a student's variants",
                       "Print the answer key of the workbook (key/answers.json, made by `tasks.py "
                       "notebooks` from the Solutions); with --student ID, the variant of each "
                       "find-the-bug exercise that student draws, and its fix.")
    answers.add_argument("--student", metavar="ID", default=None, help="a student id")

    new = _command(commands, "new", _new, "a new notebook from the template, on the maps")
    new.add_argument("name", metavar="NN_topic")

    book = _command(commands, "book", _book, "build the workbook as a static website",
                    "Build the workbook as a static website from the executed notebooks.")
    book.add_argument("--out", metavar="DIR",
                      help="folder for the build; the site goes to DIR/html (default: the "
                      "workbook's _build)")
    book.add_argument("--repository", default=None, metavar="URL",
                      help="https://github.com/OWNER/NAME for the launch buttons (default: the "
                      "origin remote)")
    book.add_argument("--branch", default="main", help="branch Binder builds (default: main)")
    book.add_argument("--no-explorer", action="store_true",
                      help="skip the precomputed explorer (faster; its page is then missing)")

    grade = _command(commands, "grade", _grade, "grade a class: grades.csv and feedback per student",
                     GRADE_HELP)
    grade.formatter_class = argparse.RawDescriptionHelpFormatter
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="one folder or notebook per student")
    grade.add_argument("--out", metavar="DIR", help="where grades.csv and feedback/ go "
                       "(default: grades/ beside SUBMISSIONS_DIR; replaced whole)")
    grade.add_argument("--workers", type=_number, default=None,
                       help="kernels at a time (default: the machine's cores)")
    grade.add_argument("--timeout", type=_number, default=600,
                       help="seconds per notebook (default: 600)")
    grade.add_argument("--cell-timeout", type=_number, default=None,
                       help="seconds per cell (default: the smaller of 120 and --timeout)")
    grade.add_argument("--memory", type=_number, default=4,
                       help="GiB of memory per kernel (default: 4)")
    grade.add_argument("--workbook", metavar="DIR", default=None,
                       help="the instructor's workbook (default: the one of the current folder)")

    export = _command(commands, "gradescope", _gradescope,
                      "write a Gradescope autograder (setup.sh, run_autograder) for the workbook",
                      "Write a Gradescope autograder into DIR and DIR.zip: setup.sh installs the "
                      "workbook's requirements and package, run_autograder grades the submitted "
                      "notebooks as `reglab grade` does and writes results/results.json.")
    export.add_argument("directory", metavar="DIR", help="a new (or empty) folder")
    export.add_argument("--workbook", metavar="DIR", default=None,
                        help="the instructor's workbook (default: the one of the current folder)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Bad arguments raise ``SystemExit(2)`` after one line on stderr (as ``argparse`` does).
    """
    from reglab.data import DatasetUnavailableError

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return args.run(args)
    except InvalidParameterError as err:
        args.parser.error(str(err))
    except (DatasetUnavailableError, FileNotFoundError, RuntimeError) as err:
        print(f"{args.parser.prog}: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into a reader that stopped early (| head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1
