"""The answer key: complete, held to its forms and known mistakes, and absent from the edition.

Per exercise of every notebook (read from ``key/answers.json``, which the Solutions' ``declare``
calls wrote): the shipped feedback accepts the key and every correct form it lists, refuses every
known mistake with its own message, and never prints the key; the student edition holds neither
the key file nor the key's value, written in any of the ways a lesson or a file could show it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from reglab import checks
from reglab.classroom import edition, key, workbook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KEY = key.load(ROOT)
FEEDBACK = json.loads((ROOT / key.FEEDBACK_FILE).read_text(encoding="utf-8"))["exercises"]
VALUED = sorted(label for label, entry in KEY.items() if entry["answer"] is not None)
#: The lessons whose theme is a pitfall: each has a find-the-bug exercise with variants.
PITFALL_LESSONS = ("01", "02", "03", "04", "05", "06", "07", "11")


def _exercises() -> dict[str, str]:
    """label -> notebook file name, for every exercise of every notebook."""
    found = {}
    for path in NOTEBOOKS:
        for ex in workbook.find_exercises(workbook.read_notebook(path)):
            assert ex.label not in found, f"{ex.label!r} is used by two notebooks"
            found[ex.label] = path.name
    return found


def _shown(value: object) -> list[str]:
    """The ways ``value`` could be written in a file: repr and 4 to 8 significant digits.

    Values too round to tell from other numbers (``0.5``, ``3``, ``1e-4``) give nothing.
    """
    if isinstance(value, dict) and "array" in value:
        return [s for x in np.ravel(value["array"]) for s in _shown(float(x))]
    if isinstance(value, dict) and "set" in value:
        return [repr(sorted(value["set"]))] if len(value["set"]) > 1 else []
    if isinstance(value, str):
        return [value] if len(value) >= 6 else []
    if isinstance(value, list):  # "[4, 3]" is also every [4, 3] shape: too short to search
        shown = repr(value)
        return [shown] if len(value) > 1 and len(shown) >= 10 else []
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    forms = {repr(value)} | {f"{value:.{n}g}" for n in range(4, 9)}
    digits = lambda s: len(re.sub(r"e.*$", "", s.lstrip("-")).replace(".", "").strip("0"))  # noqa: E731
    return sorted(s for s in forms if digits(s) >= 4)


@pytest.fixture(scope="module")
def edition_text(tmp_path_factory) -> dict[str, str]:
    """Every text file of a fresh student edition: relative path -> content."""
    destination = tmp_path_factory.mktemp("class") / "reglab-student"
    edition.make_student_edition(ROOT, destination)
    texts = {}
    for path in destination.rglob("*"):
        if path.is_file() and path.suffix not in (".npz", ".png", ".pyc"):
            texts[str(path.relative_to(destination))] = path.read_text(encoding="utf-8", errors="ignore")
    return texts


def test_every_exercise_has_a_key_and_every_key_an_exercise():
    exercises = _exercises()
    assert {label: KEY[label]["notebook"] for label in KEY} == exercises, \
        "key/answers.json is not the notebooks' exercises: run `python3 tasks.py notebooks`"
    assert set(FEEDBACK) == set(KEY)


@pytest.mark.parametrize("label", sorted(KEY))
def test_every_exercise_gives_hints_that_grow(label):
    assert len(KEY[label]["hints"]) >= 2, f"{label!r}: give two or three hints, each closer"
    assert FEEDBACK[label]["hints"] == KEY[label]["hints"]


@pytest.mark.parametrize("label", VALUED)
def test_the_feedback_accepts_the_key_and_its_correct_forms(label):
    entry = FEEDBACK[label]
    for answer in [KEY[label]["answer"], *KEY[label]["forms"]]:
        verdict = checks.judge(label, checks.from_json(answer), entry)
        assert verdict.status == "correct", f"{label!r} refuses the correct form {answer!r}"


@pytest.mark.parametrize("label", VALUED)
def test_the_feedback_refuses_each_known_mistake_with_its_message(label):
    entry = FEEDBACK[label]
    for message, wrong in KEY[label]["wrong"].items():
        verdict = checks.judge(label, checks.from_json(wrong), entry)
        assert verdict.status == "wrong" and message in verdict.message, \
            f"{label!r} does not refuse {wrong!r} as {message!r}"


@pytest.mark.parametrize("label", VALUED)
def test_no_check_message_contains_the_key(label):
    entry, shown = FEEDBACK[label], _shown(KEY[label]["answer"])
    answers = [None, "not a number", *KEY[label]["wrong"].values()]
    for attempt in (1, 2, 3, 4):
        for answer in answers:
            message = checks.judge(label, checks.from_json(answer), entry, attempt).message
            assert not [s for s in shown if s in message], f"{label!r}: {message!r} gives the key"


@pytest.mark.parametrize("label", VALUED)
def test_the_student_edition_does_not_hold_the_key(label, edition_text):
    shown = _shown(KEY[label]["answer"])
    if not shown:
        pytest.skip("the key is too round to search for (its hashes are what the edition holds)")
    found = {path: [s for s in shown if s in text] for path, text in edition_text.items()}
    found = {path: strings for path, strings in found.items() if strings}
    assert not found, f"{label!r}: the key is visible in the student edition: {found}"


def test_the_student_edition_has_neither_the_key_file_nor_a_declaration(edition_text):
    assert not [p for p in edition_text if p.startswith("key")]
    notebooks = {p: t for p, t in edition_text.items() if p.endswith(".ipynb")}
    assert not [p for p, t in notebooks.items() if "key.declare" in t]


@pytest.mark.parametrize("lesson", PITFALL_LESSONS)
def test_each_pitfall_lesson_has_a_find_the_bug_exercise_with_variants(lesson):
    varied = [label for label, entry in KEY.items()
              if entry["notebook"].startswith(f"{lesson}_") and entry.get("choices")]
    assert varied, f"notebook {lesson} has no exercise drawn per student (variants.variant)"
    for label in varied:
        assert KEY[label]["fix"], f"{label!r}: say in the key what the fix is"
        assert any(len(options) > 1 for options in KEY[label]["choices"].values())
