"""``reglab.checks``: feedback without the answer.

The hashes recognize the key within its tolerance and nothing far from it; the messages never
hold the key; a wrong answer is reported, not raised; hints grow with the attempts; in IPython a
failed answer cell is not judged by its previous value.
"""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pytest

from reglab import checks

LABEL = "Exercise 9: a test"


def _entry(value, **tolerance):
    return {**checks.commit(LABEL, value, **tolerance), "hints": ["first", "second", "third"]}


@pytest.mark.parametrize("rtol", [1e-6, 1e-5, 1e-3])
@pytest.mark.parametrize("key", [0.0619667, -3.25e-7, 12345.678])
def test_a_number_is_accepted_within_rtol_and_refused_beyond_four_rtol(key, rtol):
    entry = _entry(key, rtol=rtol)
    for factor in (1.0, 1 + 0.99 * rtol, 1 - 0.99 * rtol, 1 + rtol / 3):
        assert checks.judge(LABEL, key * factor, entry).status == "correct", factor
    for factor in (1 + 4.2 * rtol, 1 - 4.2 * rtol, 2.0, 0.5, -1.0):
        assert checks.judge(LABEL, key * factor, entry).status == "wrong", factor
    assert checks.judge(LABEL, np.float32(key), _entry(key, rtol=max(rtol, 1e-6))).status == "correct"


def test_an_answer_that_may_be_zero_uses_an_absolute_grid():
    entry = _entry(0.0, atol=1e-8)
    assert [checks.judge(LABEL, x, entry).status for x in (0.0, 9e-9, -9e-9, 5e-8, 1.0)] == [
        "correct", "correct", "correct", "wrong", "wrong"]


def test_exact_values_sets_and_arrays():
    assert checks.judge(LABEL, 4.0, _entry(4)).status == "correct"
    assert checks.judge(LABEL, np.int64(4), _entry(4)).status == "correct"
    assert checks.judge(LABEL, 5, _entry(4)).status == "wrong"
    assert checks.judge(LABEL, ["b", "a"], _entry({"a", "b"})).status == "correct"
    assert checks.judge(LABEL, ["a", "a", "b"], _entry({"a", "b"})).status == "wrong"
    assert checks.judge(LABEL, " dense ", _entry("dense")).status == "correct"
    key = np.array([0.5, -0.25, 0.0])
    entry = _entry(key, atol=1e-9)
    assert checks.judge(LABEL, key.tolist(), entry).status == "correct"
    assert checks.judge(LABEL, key[::-1], entry).status == "wrong"
    shape = checks.judge(LABEL, np.ones(4), entry)
    assert shape.status == "wrong" and "shape (3,)" in shape.message


def test_the_feedback_holds_no_value_and_messages_never_give_it():
    key = 0.0619667
    entry = {**_entry(key, rtol=1e-4), "wrong": [
        {"message": "twice the key: the 1/2",
         "digests": checks.commit(LABEL, 2 * key, rtol=1e-4)["digests"]}]}
    text = json.dumps(entry)
    assert "0.06" not in text and "6196" not in text
    messages = [checks.judge(LABEL, answer, entry, attempt).message
                for attempt in (1, 2, 3, 9) for answer in (0.1, 2 * key, "x", [1.0, 2.0])]
    assert not [m for m in messages if "0.06" in m or "6196" in m]
    assert checks.judge(LABEL, 2 * key, entry).message == "not correct yet: twice the key: the 1/2"


def test_hints_grow_with_the_attempts_and_stop_at_the_last():
    entry = _entry(1.5)
    assert [checks.judge(LABEL, 2.0, entry, n).message for n in (1, 2, 3, 4)] == [
        "not correct yet. Hint 1 of 3: first", "not correct yet. Hint 2 of 3: second",
        "not correct yet. Hint 3 of 3: third", "not correct yet. Hint 3 of 3: third"]
    assert checks.judge(LABEL, None, entry).message == "not answered yet."  # no hint before trying


def test_a_check_reports_without_raising_and_logs_the_answer(tmp_path, monkeypatch, capsys):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(checks.LOG_VARIABLE, str(log))
    checks.register(LABEL, _entry(math.pi, rtol=1e-6))
    checks.check(LABEL, None)
    checks.check(LABEL, 3.0)
    checks.check(LABEL, math.pi)
    checks.check("Exercise 9: no key", 1.0)
    checks.check_that("Exercise 9: a property", [1], lambda a: len(a) == 2, requirement="two items")
    def one_short(answer):
        raise checks.Wrong("one short")

    checks.check_that("Exercise 9: a property", [1], one_short, requirement="two items")
    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == [f"[ ] {LABEL}: not answered yet.",
                           f"[!] {LABEL}: not correct yet. Hint 1 of 3: first", f"[x] {LABEL}: correct."]
    assert "no answer key here" in printed[3]
    assert printed[4].endswith("not correct yet: two items: not yet.")
    assert printed[5].endswith("not correct yet: one short.")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["status"] for r in records] == ["open", "wrong", "correct", "failed", "wrong", "wrong"]
    assert records[1]["answer"] == 3.0  # exact: the logged copy of the literal 3.0
    assert checks.from_json(records[2]["answer"]) == pytest.approx(math.pi)


@pytest.mark.parametrize("value", [{"a", "b"}, [1, 2], np.array([[0.5, 1.5]]), 0.25, 3, "x", True])
def test_a_logged_answer_reads_back_as_the_value(value):
    back = checks.from_json(json.loads(json.dumps(checks._as_json(value))))
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value  # exact: JSON copies these values


@pytest.mark.slow
def test_in_a_kernel_a_failed_answer_cell_is_not_judged_by_its_old_value():
    from nbclient import NotebookClient

    register = ("from reglab import checks\nfor l, v in ((1, 3), (2, 5)):\n"
                "    checks.register(f'Ex {l}', {**checks.commit(f'Ex {l}', v), 'hints': ['h']})")
    cells = [register, "answer = 3", "checks.check('Ex 1', answer)", "answer = 5 +",
             "checks.check('Ex 2', answer)", "checks.check('Ex 2', answer)",  # still the failed cell
             "answer = 4", "checks.check('Ex 2', answer)", "answer = 5", "checks.check('Ex 2', answer)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, allow_errors=True, kernel_name="python3", timeout=120).execute()
    said = ["".join(o.get("text", "") for o in c.outputs).strip() for c in nb.cells]
    assert said[2] == "[x] Ex 1: correct."
    assert said[4].startswith("[!] Ex 2: your answer cell raised an error") and said[5] == said[4]
    assert said[7] == "[!] Ex 2: not correct yet. Hint 1 of 1: h"
    assert said[9] == "[x] Ex 2: correct."
