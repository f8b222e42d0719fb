"""The ``reglab`` command: its subcommands, one-line errors with exit status 2, JSON, no bar when piped."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reglab import cli, penalties
from reglab.easynet import initial_weights
from reglab.sweep import table

SUBCOMMANDS = ["penalties", "sweep", "doctor", "check", "student-edition", "new", "book"]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["nope"], "reglab: error: argument COMMAND: invalid choice: 'nope'"),
        (["doctor"], "reglab doctor: error: the following arguments are required: MODEL.keras"),
        (["sweep", "--epochs", "2.5"],
         "reglab sweep: error: epochs must be an integer >= 1; got float 2.5"),
        # every lambda is checked before the first one trains
        (["sweep", "--lambdas", "0", "1e-2", "-1"],
         "reglab sweep: error: lambdas must be a list of at least 1 items, each a finite real "
         "number >= 0; got list [0, 0.01, -1] (item 2 is int -1)"),
        (["sweep", "--lambdas", "abc"], "reglab sweep: error: lambdas must be a list"),
        (["sweep", "--approach", "l2_loss", "--kind", "l1"],
         "reglab sweep: error: kind='l1' is not supported by approach 'l2_loss'; it supports 'l2'"),
        (["penalties", "--lam", "-1"],
         "reglab penalties: error: lam must be a finite real number >= 0; got int -1"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, line, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(line), captured.err


def test_help_lists_every_subcommand_in_one_line_each(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    for name in SUBCOMMANDS:
        assert any(line.split()[:1] == [name] and len(line.split()) > 1
                   or line.split() == [name] for line in lines), name


@pytest.mark.parametrize(("name", "option"), [
    ("penalties", "--numpy-only"), ("sweep", "--lambdas"), ("doctor", "MODEL.keras"),
    ("check", "--timeout"), ("student-edition", "DIR"), ("new", "NN_topic"), ("book", "--repository"),
])
def test_each_subcommand_help_shows_its_options(name, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    assert option in capsys.readouterr().out


def test_help_imports_no_tensorflow():
    code = ("import sys\nfrom reglab import cli\ntry:\n    cli.main(['sweep', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          check=True)
    assert proc.stdout.splitlines()[-1] == "[]"


def test_penalties_json_matches_the_formulas(capsys):
    assert cli.main(["penalties", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    w = initial_weights(0)[0]
    assert table["lam"] == 1e-3 and table["shape"] == [784, 200]  # exact: parsed from the same literal
    rows = {row["api"]: row for row in table["rows"]}
    assert set(rows) == set(penalties.APIS)
    assert rows["tf_slim.l2_regularizer"]["numpy"] == pytest.approx(penalties.slim_l2(w, 1e-3))
    assert rows["keras.regularizers.l2"]["numpy"] == pytest.approx(
        2 * rows["tf_slim.l2_regularizer"]["numpy"])
    for row in rows.values():
        assert row["tensorflow"] == pytest.approx(row["numpy"], rel=1e-5)


def test_penalties_table_numpy_only(capsys):
    assert cli.main(["penalties", "--numpy-only", "--lam", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "keras.regularizers.l2" in out and "lam = 0.01" in out


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    piped, terminal = io.StringIO(), _Terminal()
    for stream in (piped, terminal):
        with table.progress_bar("lambda 0", 2, stream=stream) as bar:
            bar.on_epoch(1, 0.5, 0.25)
            bar.on_epoch(2, 0.4, 0.2)
    assert piped.getvalue() == ""
    drawn = terminal.getvalue()
    assert "lambda 0" in drawn and "2/2" in drawn and "100%" in drawn, drawn
    assert "data loss 0.4000, penalty 0.2000" in drawn, drawn


def test_progress_bar_of_total_0():
    stream = _Terminal()
    with table.progress_bar("empty", 0, stream=stream) as bar:
        bar.on_epoch(0, 1.0, 0.0)
    assert bar.n == 0 and "empty" in stream.getvalue() and "%" not in stream.getvalue()


def test_sweep_table_in_process(capsys):
    assert cli.main(["sweep", "--approach", "get_variable", "--lambdas", "0", "0.1",
                     "--epochs", "1", "--dataset", "toy2d"]) == 0
    out = capsys.readouterr().out
    assert "predicted classes 0..1" in out
    assert "penalty lam * sum(k**2) / 2 per kernel k (slim convention)" in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0 ", "0.1 "))]) == 2


def test_sweep_json_piped_has_no_progress_bar_and_no_noise(capfd):
    # under pytest, stderr is not a terminal: no bar; capfd also sees TensorFlow's C++ lines
    assert cli.main(["sweep", "--approach", "keras_loop", "--lambdas", "0", "0.5",
                     "--epochs", "1", "--dataset", "toy2d", "--json"]) == 0
    captured = capfd.readouterr()
    assert captured.err == ""
    report = json.loads(captured.out)
    assert (report["approach"], report["dataset"], report["kind"]) == ("keras_loop", "toy2d", "l2")
    assert report["convention"] == "slim"
    assert [row["lam"] for row in report["results"]] == [0, 0.5]  # exact: copied from the argument
    for row in report["results"]:
        assert set(row) >= {"test_accuracy", "final_data_loss", "final_penalty",
                            "predicted_class_counts"}
        assert sum(row["predicted_class_counts"]) == 100
        assert 0.0 <= row["test_accuracy"] <= 1.0
    assert report["results"][0]["final_penalty"] == 0.0  # exact: lam = 0 gives no penalty term
    assert report["results"][1]["final_penalty"] > 0.0


def test_sweep_defaults_are_make_runs():
    import inspect

    from reglab.sweep import run

    args = cli.build_parser().parse_args(["sweep"])
    for name, param in inspect.signature(run.make_run).parameters.items():
        if param.default is not inspect.Parameter.empty and name != "on_epoch":
            assert getattr(args, name) == param.default, name


def test_sweep_help_names_the_lambda_convention(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "slim convention (L2: lam * sum(k**2) / 2 per kernel" in text
    assert "keras.regularizers.l2(lam / 2)" in text


@pytest.mark.parametrize(("argv", "module", "function", "expected"), [
    (["check", "a.ipynb", "b.ipynb", "--timeout", "30"], "reglab.classroom.commands", "check",
     ((["a.ipynb", "b.ipynb"],), {"timeout": 30})),
    (["student-edition", "class"], "reglab.classroom.commands", "student_edition", (("class",), {})),
    (["new", "13_dropout"], "reglab.classroom.commands", "new", (("13_dropout",), {})),
    (["doctor", "m.keras", "--json"], "reglab.doctor.cli", "run", (("m.keras",), {"as_json": True})),
    (["book", "--no-explorer"], "reglab.classroom.commands", "book", ((None,), {"explorer": False})),
])
def test_subcommands_call_their_entry_points(argv, module, function, expected, monkeypatch):
    import importlib

    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return 3

    monkeypatch.setattr(importlib.import_module(module), function, record)
    assert cli.main(argv) == 3
    (args, kwargs), = calls
    assert args == expected[0]
    assert {k: v for k, v in kwargs.items() if k in expected[1]} == expected[1]
    assert kwargs["out"] is sys.stdout


def _python_m_reglab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    return subprocess.run([sys.executable, "-m", "reglab", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False, cwd=cwd)


def test_python_m_reglab_entry_point():
    proc = _python_m_reglab("penalties", "--numpy-only", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    assert {row["api"] for row in json.loads(proc.stdout)["rows"]} == set(penalties.APIS)


def test_python_m_reglab_bad_argument_exit_status():
    proc = _python_m_reglab("sweep", "--epochs", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "reglab sweep: error: epochs must be an integer >= 1; got int 0"]
