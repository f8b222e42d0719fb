"""The command line: one-line errors with exit status 2, JSON output, no progress bar when piped."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys

import pytest

from reglab import cli, penalties
from reglab.easynet import initial_weights


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["sweep", "--approach", "nope"], "--approach"),
        (["sweep", "--lambdas", "-1"], "--lambdas"),
        (["sweep", "--lambdas=-1e-4"], "argument --lambdas: must be >= 0, got -0.0001"),
        # argparse reads "-1e-4" after a value as an option on Python 3.11, a number on 3.13
        (["sweep", "--lambdas", "1e-2", "-1e-4"], "-1e-4"),
        (["sweep", "--lambdas", "0", "inf"], "--lambdas"),
        (["sweep", "--lambdas", "abc"], "--lambdas"),
        (["sweep", "--epochs", "0"], "--epochs"),
        (["sweep", "--epochs", "2.5"], "argument --epochs: must be an integer, got float 2.5"),
        (["sweep", "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["sweep", "--batch-size", "x"], "argument --batch-size: must be an integer, got str 'x'"),
        (["sweep", "--lambdas", "nan"], "argument --lambdas: must be finite, got nan"),
        (["sweep", "--dataset", "cifar"], "--dataset"),
        (["sweep", "--penalty", "l3"], "--penalty"),
        (["sweep", "--approach", "l2_loss", "--penalty", "l1"],
         "argument --penalty: penalty='l1' is not supported by approach 'l2_loss'"),
        (["sweep", "--learning-rate", "0"], "argument --learning-rate: must be > 0, got 0.0"),
        (["penalties", "--c", "-1"], "--c"),
        (["nope"], "COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and name in captured.err
    assert "Traceback" not in captured.err


def test_penalties_json_matches_the_formulas(capsys):
    assert cli.main(["penalties", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    w = initial_weights(0)[0]
    assert table["c"] == 1e-3 and table["shape"] == [784, 200]  # exact: parsed from the same literal
    rows = {row["api"]: row for row in table["rows"]}
    assert set(rows) == set(penalties.CONVENTIONS)
    assert rows["tf_slim.l2_regularizer"]["numpy"] == pytest.approx(penalties.slim_l2(w, 1e-3))
    assert rows["keras.regularizers.l2"]["numpy"] == pytest.approx(
        2 * rows["tf_slim.l2_regularizer"]["numpy"])
    for row in rows.values():
        assert row["tensorflow"] == pytest.approx(row["numpy"], rel=1e-5)


def test_penalties_table_numpy_only(capsys):
    assert cli.main(["penalties", "--numpy-only", "--c", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "keras.regularizers.l2" in out and "c = 0.01" in out


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        with cli.progress_bar("lambda 0", 2, stream=stream) as bar:
            bar.on_epoch(1, 0.5, 0.25)
            bar.on_epoch(2, 0.4, 0.2)
    assert piped.getvalue() == ""
    drawn = terminal.getvalue()
    assert "lambda 0" in drawn and "2/2" in drawn and "100%" in drawn, drawn
    assert "data loss 0.4000, penalty 0.2000" in drawn, drawn


def test_sweep_table_in_process(capsys):
    assert cli.main(["sweep", "--approach", "get_variable", "--lambdas", "0", "0.1",
                     "--epochs", "1", "--dataset", "toy2d"]) == 0
    out = capsys.readouterr().out
    assert "predicted classes 0..1" in out
    assert "penalty c * sum(w**2) / 2 per kernel with c = lambda (tf_slim.l2_regularizer)" in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0 ", "0.1 "))]) == 2


def test_sweep_json_piped_has_no_progress_bar_and_no_noise(capfd):
    # under pytest, stderr is not a terminal: no bar; capfd also sees TensorFlow's C++ lines
    assert cli.main(["sweep", "--approach", "keras_loop", "--lambdas", "0", "0.5",
                     "--epochs", "1", "--dataset", "toy2d", "--json"]) == 0
    captured = capfd.readouterr()
    assert captured.err == ""
    report = json.loads(captured.out)
    assert report["approach"] == "keras_loop" and report["dataset"] == "toy2d"
    assert report["convention"] == "tf_slim.l2_regularizer"
    assert [row["lam"] for row in report["results"]] == [0.0, 0.5]  # exact: copied from the argument
    for row in report["results"]:
        assert set(row) >= {"test_accuracy", "final_data_loss", "final_penalty",
                            "predicted_class_counts"}
        assert sum(row["predicted_class_counts"]) == 100
        assert 0.0 <= row["test_accuracy"] <= 1.0
    assert report["results"][0]["final_penalty"] == 0.0
    assert report["results"][1]["final_penalty"] > 0.0


def _python_m_reglab(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    return subprocess.run([sys.executable, "-m", "reglab", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


def test_python_m_reglab_entry_point():
    proc = _python_m_reglab("penalties", "--numpy-only", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    assert {row["api"] for row in json.loads(proc.stdout)["rows"]} == set(penalties.CONVENTIONS)


def test_python_m_reglab_bad_argument_exit_status():
    proc = _python_m_reglab("sweep", "--epochs", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "reglab sweep: error: argument --epochs: must be >= 1, got 0"]


def test_cli_types_apply_the_validate_rules():
    # the argparse types are reglab._validate's checks: same verdicts on the same numbers
    from reglab._validate import InvalidParameterError, check_int, check_scale

    for text in ["0", "1", "-1", "2.5", "1e3", "inf", "nan", "abc", "1e-4"]:
        for parse, check, options in [(cli._lambda, check_scale, {}),
                                      (cli._positive_float, check_scale, {"allow_zero": False}),
                                      (cli._positive_int, check_int, {"minimum": 1}),
                                      (cli._nonneg_int, check_int, {"minimum": 0})]:
            try:
                expected = check("x", cli._number(text), **options)
            except InvalidParameterError:
                with pytest.raises(argparse.ArgumentTypeError):
                    parse(text)
            else:
                assert parse(text) == expected


def test_sweep_defaults_are_make_runs():
    import inspect

    from reglab import approaches

    args = cli.build_parser().parse_args(["sweep"])
    for name, param in inspect.signature(approaches.make_run).parameters.items():
        if param.default is not inspect.Parameter.empty and name != "on_epoch":
            assert getattr(args, name) == param.default, name
    assert args.epochs == 10 and args.approach == "tf_slim"


def test_sweep_help_names_the_lambda_convention(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "tf_slim convention (L2: lam * sum(k**2) / 2 per kernel" in text
    assert "keras.regularizers.l2(lam / 2)" in text


def test_progress_bar_of_total_0_and_bad_total():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with cli.progress_bar("empty", 0, stream=stream) as bar:
        bar.on_epoch(0, 1.0, 0.0)
    assert bar.n == 0 and "empty" in stream.getvalue() and "%" not in stream.getvalue()
    with pytest.raises(ValueError, match="total must be >= 0"):
        cli.progress_bar("bad", -1, stream=stream)
    with pytest.raises(TypeError, match="total must be an integer"):
        cli.progress_bar("bad", 2.0, stream=stream)
