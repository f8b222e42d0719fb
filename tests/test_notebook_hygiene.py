"""Static checks over every committed notebook (no kernel is started here).

nbval (strict) and the "Run All again" item in conftest.py execute the notebooks; these tests
check what must hold of the committed files themselves.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reglab.classroom import scaffold, workbook
from reglab.classroom.book import THREAD_URL

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

MACHINE_PATH = re.compile(r"(/root/|/work/|/tmp/|/home/\w+|/Users/\w+|\\Users\\|site-packages|/usr/lib/)")
TF_LOG = re.compile(
    r"(cpu_feature_guard|oneDNN custom operations|absl::InitializeLog|cudart_stub|"
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|^WARNING:tensorflow|^WARNING:absl)",
    re.M,
)
FORBIDDEN_SOURCE = {
    "shell escape": re.compile(r"^\s*!", re.M),
    "pip or conda magic": re.compile(r"^\s*%+\s*(pip|conda|mamba)\b", re.M),
    "shell cell magic": re.compile(r"^\s*%%\s*(bash|sh|script|system|writefile)\b", re.M),
    "system magic": re.compile(r"^\s*%(system|sx)\b", re.M),
    "os.system": re.compile(r"\bos\.system\s*\("),
    "shell=True": re.compile(r"shell\s*=\s*True"),
    "HTTP client": re.compile(r"\b(urllib\.request|requests\.|http\.client|urlopen)\b"),
    "full MNIST download": re.compile(r"mnist\.load_data|load_full_mnist|load_dataset\(\s*['\"]mnist['\"]"),
    "file download": re.compile(r"\bget_file\s*\("),
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _output_text(output: dict) -> str:
    if "text" in output:
        text = output["text"]
        return "".join(text) if isinstance(text, list) else text
    if output.get("output_type") == "error":
        return output.get("ename", "") + ": " + output.get("evalue", "") + "\n" + "\n".join(
            output.get("traceback", [])
        )
    data = {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}
    return json.dumps(data)


def _raises(cell: dict) -> bool:
    return "raises-exception" in cell.get("metadata", {}).get("tags", [])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1 and NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executed_top_to_bottom_in_one_kernel(path):
    counts = [c["execution_count"] for c in _code_cells(_load(path)) if _source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_hold_no_machine_paths_and_no_tensorflow_logs(path):
    for index, cell in enumerate(_code_cells(_load(path))):
        for output in cell.get("outputs", []):
            text = _output_text(output)
            found = MACHINE_PATH.search(text)
            assert not found, f"code cell {index} shows a machine path: {found.group(0)!r}"
            found = TF_LOG.search(text)
            assert not found, f"code cell {index} holds a TensorFlow log line: {found.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_errors_only_where_a_cell_is_marked_to_raise(path):
    for index, cell in enumerate(_code_cells(_load(path))):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if _raises(cell):
            assert errors, f"code cell {index} is tagged raises-exception but shows no error"
        else:
            assert not errors, f"code cell {index} shows an error but is not tagged raises-exception"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_shell_pip_or_network_calls(path):
    for index, cell in enumerate(_code_cells(_load(path))):
        source = _source(cell)
        for what, pattern in FORBIDDEN_SOURCE.items():
            assert not pattern.search(source), f"code cell {index} uses {what}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_sets_up_reglab(path):
    """The set-up of ``templates/colab_setup.py``: it installs reglab on Colab, where it is missing."""
    first = _source(_code_cells(_load(path))[0])
    assert "import reglab" in first and "reglab.setup()" in first
    assert scaffold.colab_setup().strip() in first, "paste reglab/classroom/templates/colab_setup.py"


@pytest.fixture(scope="module")
def not_normalized() -> str:
    """What ``nbstripout --verify`` says of all notebooks at once (one process, not one each)."""
    result = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", "--verify",
         *map(str, NOTEBOOKS)], capture_output=True, text=True,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_normalized_with_nbstripout(path, not_normalized):
    assert str(path) not in not_normalized, (
        "not normalized: run `python3 tasks.py notebooks " + f"notebooks/{path.name}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_links_to_notebooks_resolve(path):
    nb = _load(path)
    text = "".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for target in re.findall(r"\]\(([^)#\s]+\.ipynb)", text):
        assert (path.parent / target).is_file(), f"broken link to {target}"


def test_every_notebook_is_on_the_maps():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = "".join(_source(c) for c in _load(NOTEBOOKS[0])["cells"] if c["cell_type"] == "markdown")
    for path in NOTEBOOKS[1:]:
        assert path.name in readme, f"{path.name} is missing from the README's map"
        assert path.name in start, f"{path.name} is missing from 00_start_here's map"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_structure(path):
    """The layout that `tasks.py check` and `student-edition` rely on (CONTRIBUTING.md)."""
    nb = _load(path)
    cells = nb["cells"]
    exercises = workbook.find_exercises(nb)
    assert exercises, "no exercises: every notebook has at least one, with its check"
    headings = [_source(c).strip().splitlines()[0] for c in cells
                if c["cell_type"] == "markdown" and _source(c).strip()]
    assert any(h.startswith("## Exercises") for h in headings), "no '## Exercises' heading"
    assert headings.count(workbook.SOLUTIONS_HEADING) == 1, "needs exactly one '## Solutions' cell"
    assert headings[-1].startswith(workbook.NEXT_HEADING), "the last cell must be '## Next' with a link"
    solutions = workbook.solutions_range(nb)
    for ex in exercises:
        assert ex.exercise_cell < ex.check_cell < solutions.start
        assert workbook.OPEN_ANSWER.fullmatch(_source(cells[ex.exercise_cell]).strip()), (
            f"the exercise cell of {ex.label!r} must be just `answer = None  # ...`")
        assert ex.solution_cell is not None, f"{ex.label!r} has no solution cell"
        labels = workbook.exercise_labels(_source(cells[ex.solution_cell]))
        assert labels == [ex.label], (
            f"the solution cell of {ex.label!r} must check that exercise only, found {labels}")
        assert ex.label.startswith("Exercise"), f"label {ex.label!r} must start with 'Exercise'"
        assert _is_bare_check(_source(cells[ex.check_cell])), (
            f"the check cell of {ex.label!r} must be one call, `reglab.checks.check(label, answer)` "
            "or `check_that(label, answer, predicate, requirement=...)`: no expected value in sight")
    assert len({ex.label for ex in exercises}) == len(exercises), "two exercises share a label"


def _is_bare_check(code: str) -> bool:
    """One statement: ``check(label, answer)`` or ``check_that(label, answer, name, requirement=)``."""
    body = ast.parse(code).body
    if len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return False
    call = body[0].value
    name = getattr(call.func, "attr", "")
    plain = [isinstance(a, ast.Name) for a in call.args[1:]]
    if name == "check":
        return len(call.args) == 2 and plain == [True] and not call.keywords
    return (name == "check_that" and len(call.args) == 3 and all(plain)
            and [k.arg for k in call.keywords] == ["requirement"])


def _answers_on_the_map() -> dict[str, str]:
    """notebook stem -> its 'thread answers' column in the README's map ('-' for none)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \[(\d\d_\w+)\]\([^)]*\) \|.*\| ([^|]+) \|$", readme, re.M)
    return {stem: answers.strip() for stem, answers in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebooks_that_quote_the_thread_link_it(path):
    """The thread is CC BY-SA: every notebook that draws on its answers links the question."""
    answers = _answers_on_the_map().get(path.stem)
    assert answers is not None, f"{path.stem} has no row in the README's map"
    if answers in ("-", "—"):
        return
    text = "".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "markdown")
    assert THREAD_URL in text, f"{path.stem} quotes the thread (answers {answers}) but does not link it"


TIME = re.compile(r"\*\*Time:\*\* about (\d+) minutes of class work for the core; "
                  r"(?:the appendices add about (\d+) minutes|no appendices)\.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_each_lesson_states_its_time_and_its_core_fits_a_class_period(path):
    """A stated time (as Neuromatch does): 45-60 minutes for the core; deep dives in appendices."""
    cells = _load(path)["cells"]
    found = TIME.search(_source(cells[0]))
    assert found, "the first cell must state '**Time:** about NN minutes of class work for the core; ...'"
    assert 45 <= int(found.group(1)) <= 60, "the core of a lesson fits one class period: 45-60 minutes"
    headings = [(i, _source(c).strip().splitlines()[0]) for i, c in enumerate(cells)
                if c["cell_type"] == "markdown" and _source(c).strip()]
    appendices = [i for i, h in headings if h.startswith("## Appendix")]
    assert bool(appendices) == bool(found.group(2)), "the stated time and the appendices disagree"
    exercises = next(i for i, h in headings if h.startswith("## Exercises"))
    solutions = next(i for i, h in headings if h.startswith(workbook.SOLUTIONS_HEADING))
    assert all(exercises < i < solutions for i in appendices), \
        "appendices come after the exercises and before the Solutions"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_hidden_checks_are_hidden_in_jupyterlab_and_the_book_alike(path):
    """A cell that only checks the prose's numbers is folded (JupyterLab) and removed (book)."""
    for index, cell in enumerate(_load(path)["cells"]):
        folded = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)
        removed = "remove-input" in cell.get("metadata", {}).get("tags", [])
        assert folded == removed, f"cell {index}: set both source_hidden and the remove-input tag"
        if folded:
            assert cell["cell_type"] == "code", f"cell {index}: only code cells are hidden"
        if "answer-key" in cell.get("metadata", {}).get("tags", []):
            assert folded, f"cell {index}: a cell of the answer key is hidden too (the book shows it)"


def test_the_course_table_of_00_adds_up_the_stated_times():
    """00's "full course" table repeats each notebook's stated minutes; its totals are their sums."""
    stated = {}
    for path in NOTEBOOKS:
        found = TIME.search(_source(_load(path)["cells"][0]))
        stated[path.stem[:2]] = (int(found.group(1)), int(found.group(2) or 0))
    text = "".join(_source(c) for c in _load(ROOT / "notebooks" / "00_start_here.ipynb")["cells"])
    rows = {n: (int(core), 0 if app == "—" else int(app)) for n, core, app in
            re.findall(r"^\| \d+ \| \[(\d\d)\]\([^)]*\) \| (\d+) \| ([^|\s]+) \|$", text, re.M)}
    assert rows == stated, "00's table of minutes disagrees with the notebooks' stated times"
    total = re.search(r"\| \| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|", text)
    sums = (sum(core for core, _ in stated.values()), sum(app for _, app in stated.values()))
    assert total and (int(total.group(1)), int(total.group(2))) == sums
