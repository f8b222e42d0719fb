"""``reglab grade`` and the Gradescope export, on a simulated class.

The instructor's workbook is built in a temporary folder: this checkout's ``reglab`` package and
one small notebook in the workbook's exercise layout (two value exercises checked with
``checks.check``, one ``check_that`` exercise), its key made by ``reglab.classroom.key`` from the
Solutions' declarations, as ``tasks.py notebooks`` makes it.  The class's submissions are made
from the student edition of that notebook with answers taken from the workbook's
``key/answers.json``: right, wrong, blank, a typo, and each hostile kind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from reglab.classroom import key
from reglab.classroom.grade import find_submissions, pristine_labels, restore
from reglab.classroom.workbook import exercise_labels as labels
from reglab.classroom.workbook import solutions_range

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "00_quiz.ipynb"
EX1 = "Exercise 1: porting l2_loss to Keras"
EX2 = "Exercise 2: the gradient keras l2 adds"
EX3 = "Exercise 3: the penalty as a function"
RIGHT3 = "answer = lambda w: 0.01 * float(np.sum(np.square(w)))"
PREDICATE3 = ("lambda f: abs(float(f(np.array([1.0, 2.0]))) - 0.05) < 1e-9 and "
              "abs(float(f(np.array([3.0]))) - 0.09) < 1e-9")


def _notebook(solutions: bool = True) -> nbformat.NotebookNode:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# 00 · A quiz\n\nThree exercises on Keras' l2."),
        code("import numpy as np\n\nfrom reglab import checks\nfrom reglab.classroom import key"),
        md("## Exercises\n\n**Exercise 1.** The Keras constant for `5e-4 * tf.nn.l2_loss(w)`."),
        code("answer = None  # your answer: the constant for keras.regularizers.l2"),
        code(f'checks.check("{EX1}", answer)'),
        md("**Exercise 2.** d penalty / d w of `keras.regularizers.l2(0.01)` at w = 0.5."),
        code("answer = None  # your answer: a number"),
        code(f'checks.check("{EX2}", answer)'),
        md("**Exercise 3.** A function of `w` giving `keras.regularizers.l2(0.01)(w)`."),
        code("answer = None  # your answer: a function"),
        code(f'checks.check_that("{EX3}", answer, {PREDICATE3},\n'
             '                  requirement="answer(w) is keras.regularizers.l2(0.01)(w)")'),
    ]
    if solutions:
        cells += [
            md("## Solutions"),
            code(f'answer = 5e-4 / 2\nkey.declare("{EX1}", answer, rtol=1e-6, hints=["the 1/2"],\n'
                 f'            wrong={{"twice the key: l2_loss carries a 1/2": 2 * answer}})\n'
                 f'checks.check("{EX1}", answer)'),
            code(f'answer = 2 * 0.01 * 0.5\nkey.declare("{EX2}", answer, hints=["differentiate c w^2"])\n'
                 f'checks.check("{EX2}", answer)'),
            code(f'{RIGHT3}\nkey.declare("{EX3}", hints=["sum of squares"], fix="0.01 * sum(w**2)")\n'
                 f'checks.check_that("{EX3}", answer, {PREDICATE3},\n'
                 '                  requirement="answer(w) is keras.regularizers.l2(0.01)(w)")'),
        ]
    cells.append(md("## Next\n\n[the map](00_quiz.ipynb)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_workbook(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instructor's workbook in ``folder``: the package, one notebook, its key."""
    shutil.copytree(ROOT / "reglab", folder / "reglab",
                    ignore=shutil.ignore_patterns("__pycache__", "feedback.json"))
    (folder / "notebooks").mkdir()
    (folder / "tasks.py").write_text("# the workbook's tasks\n")
    (folder / "data").mkdir()
    nbformat.write(_notebook(), folder / "notebooks" / NOTEBOOK)
    records = folder / "declarations.jsonl"
    records.touch()
    monkeypatch.setenv(key.RECORD_VARIABLE, str(records))
    # the Solutions' declarations, as the notebook's run records them
    key.declare(EX1, 5e-4 / 2, rtol=1e-6, hints=["the 1/2"],
                wrong={"twice the key: l2_loss carries a 1/2": 5e-4}, notebook=NOTEBOOK)
    key.declare(EX2, 2 * 0.01 * 0.5, hints=["differentiate c w^2"], notebook=NOTEBOOK)
    key.declare(EX3, hints=["sum of squares"], fix="0.01 * sum(w**2)", notebook=NOTEBOOK)
    monkeypatch.delenv(key.RECORD_VARIABLE)
    assert key.write(records, NOTEBOOK, folder) == 3
    records.unlink()
    return folder


def _student_notebook(answers: dict[int, str], checks: dict[int, str] | None = None) -> dict:
    """The student edition with the exercise cells ``answers`` (index -> source) filled in."""
    nb = _notebook(solutions=False)
    for index, text in {**answers, **(checks or {})}.items():
        nb.cells[index].source = text
    return nb


RIGHT = {3: "answer = 5e-4 / 2", 6: "answer = 0.01", 9: RIGHT3}


def _class(workbook: Path, victim: Path) -> dict[str, dict]:
    """Submission name -> student notebook; answers from the workbook's key."""
    stored = json.loads((workbook / key.KEY_FILE).read_text())["answers"]
    answers = {label: entry["answer"] for label, entry in stored.items()}
    a1, a2 = answers[EX1], answers[EX2]
    right = {3: f"answer = {a1!r}", 6: f"answer = {a2!r}", 9: RIGHT3}
    keyfile = workbook / key.KEY_FILE
    loop = "while True:\n    pass"
    stubborn = "while True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    return {
        "s01__00_quiz": _student_notebook(right),
        "s02__00_quiz": _student_notebook({3: "import numpy as np\nanswer = np.float32(5e-4) / 2",
                                           6: "answer = 2 * 0.01 * 0.5", 9: RIGHT3}),
        "s03__00_quiz": _student_notebook({3: "answer = 0.00025", 6: "answer = 1e-2", 9: RIGHT3}),
        "s04__00_quiz": _student_notebook(right),
        "s05": _student_notebook(right),  # <student>.ipynb: matched by its exercises
        "s06__00_quiz": _student_notebook({3: f"answer = {a1!r}"}),  # one done, two open
        "s07__00_quiz": _student_notebook({3: "answer = 5e-4", 6: "answer = 0.005",
                                           9: "answer = lambda w: 0.01 * float(np.sum(w))"}),
        "s08__00_quiz": _student_notebook({3: "answer = 'a lot'", 6: "answer = [0.01, 0.01]", 9: RIGHT3}),
        "s09__00_quiz": _student_notebook({}),  # blank
        "s10__00_quiz": _student_notebook({**right, 3: "answer = 5e-4 /"}),  # typo
        "s11__00_quiz": _student_notebook({**right, 6: loop}),  # interrupted, the rest goes on
        "s12__00_quiz": _student_notebook({**right, 6: "import time\n" + stubborn}),  # killed
        "s13__00_quiz": _student_notebook({**right, 3: "hog = bytearray(64 * 2**30)\nanswer = 0.00025"}),
        "s14__00_quiz": _student_notebook({**right, 3: "import urllib.request\n"
                                           "urllib.request.urlopen('http://example.com', timeout=5)\n"
                                           f"answer = {a1!r}"}),
        "s15__00_quiz": _student_notebook({**right, 6: f"import os\nos.remove({str(victim / 'keep.txt')!r})\n"
                                           f"answer = {a2!r}"}),
        "s16__00_quiz": _student_notebook({**right, 9: f"open({str(victim / 'new.txt')!r}, 'w').write('x')\n"
                                           + RIGHT3}),
        "s17__00_quiz": _student_notebook({**right, 3: "import json\nanswer = json.load(open("
                                           f"{str(keyfile)!r}))['answers']['{EX1}']['answer']"}),
        "s18__00_quiz": _student_notebook(  # wrong answers, check cells faked
            {3: "answer = 1.0", 6: "answer = 1.0", 9: "answer = None"},
            {4: f'print("[x] {EX1}: correct.")',
             7: f'checks._report("{EX2}", checks.Verdict("correct", "correct."), {a2!r})',
             10: f'checks.check_that("{EX3}", 1, lambda a: True, requirement="x")'}),
        "s19__00_quiz": _student_notebook({**right, 6: f"import os\nos.system('touch {victim}/sh.txt')\n"
                                           f"answer = {a2!r}"}),
        "s20__00_quiz": _student_notebook({**right, 9: "import os, json\nwith open("
                                           "os.environ['REGLAB_CHECK_LOG'], 'a') as f:"
                                           f"\n    f.write(json.dumps({{'exercise': '{EX3}', "
                                           "'status': 'correct', 'message': 'correct.', 'answer': None}) + "
                                           "'\\n')\nanswer = lambda w: 0.0"}),
        "s21/work/00_quiz": _student_notebook(right),  # a folder
        "bad id!__00_quiz": _student_notebook(right),  # refused
    }


EXPECTED = {  # student -> (Exercise 1, 2, 3)
    "s01": (1, 1, 1), "s02": (1, 1, 1), "s03": (1, 1, 1), "s04": (1, 1, 1), "s05": (1, 1, 1),
    "s06": (1, 0, 0), "s07": (0, 0, 0), "s08": (0, 0, 1), "s09": (0, 0, 0), "s10": (0, 1, 1),
    "s11": (1, 0, 1), "s12": (1, 0, 0), "s13": (0, 1, 1), "s14": (0, 1, 1), "s15": (1, 0, 1),
    "s16": (1, 1, 0), "s17": (0, 1, 1), "s18": (0, 0, 0), "s19": (1, 0, 1), "s20": (1, 1, 0),
    "s21": (1, 1, 1),
}


def _write_class(folder: Path, notebooks: dict[str, dict]) -> None:
    for name, nb in notebooks.items():
        path = folder / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(nb), path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The simulated class, graded once with the command line."""
    base = tmp_path_factory.mktemp("class")
    with pytest.MonkeyPatch.context() as monkeypatch:
        workbook = make_workbook(base / "workbook", monkeypatch)
    victim = base / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep me\n")
    submissions = base / "submissions"
    _write_class(submissions, _class(workbook, victim))
    before = {p: p.read_bytes() for p in submissions.rglob("*") if p.is_file()}
    before_key = (workbook / key.KEY_FILE).read_bytes()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reglab", "grade", str(submissions), "--workers", "2", "--timeout", "40",
         "--cell-timeout", "8", "--memory", "3", "--workbook", str(workbook)],
        capture_output=True, text=True, timeout=900, cwd=base)
    seconds = time.perf_counter() - started
    print(done.stdout, done.stderr, f"wall time {seconds:.0f} s", sep="\n")
    return {"done": done, "base": base, "workbook": workbook, "victim": victim, "seconds": seconds,
            "submissions": submissions, "before": before, "before_key": before_key}


@pytest.mark.slow
def test_the_class_grades_to_the_expected_csv(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr
    with open(graded["base"] / "grades" / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "00_quiz: Exercise 1", "00_quiz: Exercise 2", "00_quiz: Exercise 3",
                       "total"]
    got = {row[0]: tuple(int(v) for v in row[1:4]) for row in rows[1:]}
    assert got == EXPECTED
    assert all(int(row[4]) == sum(EXPECTED[row[0]]) for row in rows[1:])
    assert [row[0] for row in rows[1:]] == sorted(EXPECTED)


@pytest.mark.slow
def test_the_hostile_ones_are_contained_and_named(graded):
    out = graded["done"].stdout
    assert "refused bad id!__00_quiz.ipynb" in out
    assert "network off by a network namespace" in out or "network off by an audit hook" in out
    assert (graded["victim"] / "keep.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in graded["victim"].iterdir()) == ["keep.txt"]
    after = {p: p.read_bytes() for p in graded["submissions"].rglob("*") if p.is_file()}
    assert after == graded["before"]
    assert (graded["workbook"] / key.KEY_FILE).read_bytes() == graded["before_key"]
    feedback = {p.stem: p.read_text() for p in (graded["base"] / "grades" / "feedback").glob("*.md")}
    assert "time limit (8 s)" in feedback["s11"]
    assert "time limit" in feedback["s12"]
    assert "memory limit" in feedback["s13"]
    assert "refused by the network policy" in feedback["s14"]
    assert "refused by the file policy" in feedback["s15"] and "file policy" in feedback["s16"]
    assert "reading the instructor's files" in feedback["s17"]
    assert "process policy" in feedback["s19"]
    assert "SyntaxError" in feedback["s10"] and "In [" in feedback["s10"]
    assert "twice the key" in feedback["s07"]
    verdicts = [line for text in feedback.values() for line in text.splitlines() if line.startswith("- **")]
    assert verdicts and not [v for v in verdicts if "0.00025" in v or "2.5e-04" in v]  # no key value
    assert not list(Path(graded["base"]).glob("reglab-grade-*"))


def test_restore_puts_back_the_check_cells_and_drops_the_solutions():
    pristine = _notebook()
    faked = _student_notebook({3: "answer = 1.0"}, {4: 'print("[x] correct")'})
    del faked["cells"][7]  # a check cell deleted
    faked["cells"] += _notebook()["cells"][solutions_range(_notebook())[0]:]
    nb, checked = restore(faked, pristine)
    assert set(checked) == {EX1, EX2, EX3}
    assert not solutions_range(nb)
    for label, index in checked.items():
        original = next(c for c in pristine.cells if labels(c.source) == [label] and "key." not in c.source)
        assert nb.cells[index].source == original.source


def test_find_submissions_names_and_refuses(tmp_path, monkeypatch):
    workbook = make_workbook(tmp_path / "workbook", monkeypatch)
    _write_class(tmp_path / "subs", {"ann__00_quiz": _student_notebook({}), "bob": _student_notebook({}),
                                     "cy/deep/er/00_quiz": _student_notebook({}),
                                     "no way": _student_notebook({}), "dee/other": _student_notebook({})})
    found, refused = find_submissions(tmp_path / "subs", workbook)
    assert [(s.student, list(s.notebooks)) for s in found] == [
        ("ann", [NOTEBOOK]), ("bob", [NOTEBOOK]), ("cy", [NOTEBOOK])]
    assert len(refused) == 2 and "'no way'" in refused[1] and "dee" in refused[0]
    assert pristine_labels(workbook) == {NOTEBOOK: [EX1, EX2, EX3]}


@pytest.mark.slow
def test_gradescope_run_autograder_gives_the_same_scores(graded, tmp_path):
    from reglab.classroom import gradescope

    export = tmp_path / "export"
    subprocess.run([sys.executable, "-m", "reglab", "gradescope", str(export), "--workbook",
                    str(graded["workbook"])], check=True, capture_output=True, timeout=120)
    assert (export / "setup.sh").is_file() and os.access(export / "run_autograder", os.X_OK)
    for student, name in (("s07", "s07__00_quiz.ipynb"), ("s15", "s15__00_quiz.ipynb")):
        root = tmp_path / f"autograder-{student}"
        shutil.copytree(export, root / "source")
        (root / "submission").mkdir(parents=True)
        (root / "results").mkdir()
        shutil.copy(graded["submissions"] / name, root / "submission" / name)
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": f"{student}@x.edu"}]}))
        env = {**os.environ, gradescope.ROOT_VARIABLE: str(root), "REGLAB_GRADE_TIMEOUT": "40",
               "REGLAB_AUTOGRADER_PYTHON": sys.executable}
        subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True,
                       timeout=300, capture_output=True)
        results = json.loads((root / "results" / "results.json").read_text())
        assert [t["score"] for t in results["tests"]] == list(EXPECTED[student])
        assert [t["max_score"] for t in results["tests"]] == [1, 1, 1]
        assert results["score"] == sum(EXPECTED[student])
        assert all(t["name"].startswith("00_quiz: Exercise") and "output" in t for t in results["tests"])


@pytest.mark.slow
def test_a_real_lesson_runs_under_the_policy(tmp_path):
    """03 (TensorFlow, tf-keras, a child Python via subprocess) runs in the sandboxed kernel."""
    from reglab.classroom import sandbox
    from reglab.classroom.workbook import read_notebook, source

    nb = read_notebook(ROOT / "notebooks" / "03_tf_layers.ipynb")
    cut = solutions_range(nb)
    (tmp_path / "submission").mkdir()
    limit = sandbox.limits(600, 300, 4)
    env = sandbox.prepare(tmp_path, student="s01", workbook=ROOT, deny=[], limit=limit)
    indices = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and source(c).strip() and i not in cut]
    run = sandbox.execute(nb, indices, folder=tmp_path / "submission", scratch=tmp_path, env=env, limit=limit)
    assert run.stopped is None and sorted(run.cells) == indices
    failed = [(i, c.error["evalue"][:200]) for i, c in run.cells.items() if c.error and not labels(
        source(nb.cells[i])) and "raises-exception" not in nb.cells[i].metadata.get("tags", [])]
    assert not failed
