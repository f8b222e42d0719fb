"""``reglab new NN_topic``: a new notebook from the template, on every map at once.

The notebook gets the template's parts (CONTRIBUTING.md): title and goal, the set-up cell, the
snippet as written, the code running today, a check, pitfalls, what to use today, one exercise
with its check and its solution, and the ``## Next`` link back to the map. It is added to the
map in ``00_start_here`` and in the README, and the notebook that was last so far gets a link
to it. Executing it (so that it is committed with outputs) is ``tasks.py``'s next step.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import nbformat

from reglab.classroom.workbook import NEXT_HEADING, read_notebook, source
from reglab.params import InvalidParameterError, PathLike, Text, validated

NAME = re.compile(r"^(\d\d)_([a-z][a-z0-9]*(?:_[a-z0-9]+)*)$")
MAP_ROW = re.compile(r"^\| \[(\d\d_[a-z0-9_]+)\]\(([^)]*)\)", re.M)


@validated(name=Text(), notebooks=PathLike())
def validate_name(name: str, notebooks: Path) -> tuple[int, str]:
    """Validate ``name`` (``NN_topic``, ``.ipynb`` optional) against the notebooks in ``notebooks``.

    ``NN`` must be the next free number (one more than the highest) and ``topic`` lower-case
    words joined by ``_``. Returns ``(NN, topic)``; ``InvalidParameterError`` otherwise.
    """
    existing = sorted(p.stem for p in notebooks.glob("*.ipynb"))
    numbers = [int(stem[:2]) for stem in existing if stem[:2].isdigit()]
    wanted = max(numbers, default=-1) + 1
    if name.endswith(".ipynb"):
        name = name[: -len(".ipynb")]
    if name in existing:
        raise InvalidParameterError(f"name {name!r}: notebooks/{name}.ipynb exists already")
    match = NAME.match(name)
    if not match:
        raise InvalidParameterError(
            f"name {name!r} does not fit the numbering: use NN_topic, two digits, an underscore "
            f"and lower-case words joined by '_', for example '{wanted:02d}_dropout'"
        )
    number = int(match.group(1))
    if number in numbers:
        taken = next(stem for stem in existing if stem[:2] == match.group(1))
        raise InvalidParameterError(f"name {name!r}: number {number:02d} is taken by {taken}.ipynb; "
                                    f"the next free number is {wanted:02d}")
    if number != wanted:
        raise InvalidParameterError(f"name {name!r} does not fit the numbering: the next notebook is "
                                    f"{wanted:02d} (the last one is {existing[-1] if existing else 'none'})")
    return number, match.group(2)


_md = nbformat.v4.new_markdown_cell
_code = nbformat.v4.new_code_cell


def colab_setup() -> str:
    """The set-up cell's text (``templates/colab_setup.py``): a new notebook's first code cell.

    It imports reglab and calls ``reglab.setup()``; before that, on a hosted kernel (Colab:
    ``google.colab`` importable) where reglab is missing, it installs reglab with pip from
    ``REGLAB_INSTALL_SOURCE`` (default: the workbook's GitHub repository).
    """
    template = resources.files("reglab.classroom").joinpath("templates", "colab_setup.py")
    return template.read_text(encoding="utf-8").rstrip("\n")


def _template_cells(number: int, topic: str) -> list[dict]:
    """The cells of a new notebook: every part of the template, ready to be filled in."""
    title = topic.replace("_", " ")
    label = f"Exercise 1: keras l2 of a 2x2 matrix ({topic})"  # labels are unique in the workbook
    return [
        _md(f"# {number:02d} · {title.capitalize()}\n\n"
            "**Goal.** Say in two lines what the student can do after this notebook.\n\n"
            "Thread answers: which answers of "
            "[the thread](https://stackoverflow.com/questions/37107223) this notebook covers.\n\n"
            f"**Time:** about {TEMPLATE_TIME[0]} minutes of class work for the core; no appendices."),
        _code(colab_setup()),
        _code("import keras\nimport numpy as np\n\nimport reglab.checks\nimport reglab.classroom.key\n"
              "import reglab.penalties"),
        _md("## 1. The snippet as written\n\nQuote it exactly from the thread, in a markdown "
            "code block, and credit its answer.\n\n```python\n# the snippet, as written\n```"),
        _md("## 2. The same code running today\n\nThe teaching lines stay here, in the notebook."),
        _code("w = np.array([[1.0, -2.0], [3.0, 0.5]], dtype=np.float32)\n"
              "penalty = float(keras.regularizers.L2(0.01)(w))\n"
              "print(f\"keras L2(0.01) of w: {penalty:.4f}\")"),
        _md("## 3. The check\n\nEvery number the prose states is computed and asserted."),
        _code("expected = reglab.penalties.keras_l2(w, 0.01)\n"
              "assert abs(penalty - expected) <= 1e-6 * expected, "
              "f\"keras gave {penalty}, the formula {expected}\""),
        _md("## 4. Pitfalls\n\nShow each one failing (a cell tagged `raises-exception`), then "
            "fixed."),
        _md("## 5. What to use today\n\nThe Keras 3 way, in a few lines."),
        _md("## Exercises\n\n**Exercise 1.** What does `keras.regularizers.L2(0.01)` give for "
            "`[[1.5, -2], [3, 0.25]]`? Set `answer` to the number."),
        _code("answer = None  # your answer: a number"),
        _code(f"reglab.checks.check(\"{label}\", answer)"),
        _md("## Solutions\n\nThe Solutions are the answer key: `key.declare` records each answer, "
            "its tolerance, hints that grow with each wrong attempt and the known mistakes "
            "(`python3 tasks.py notebooks` stores them); the student edition has none of it."),
        _code("answer = float(keras.regularizers.L2(0.01)(np.array([[1.5, -2.0], [3.0, 0.25]])))\n"
              f"reglab.classroom.key.declare(\"{label}\", answer, rtol=1e-5,\n"
              "    hints=[\"Keras' L2 is the constant times a sum over the entries.\",\n"
              "           \"Square each entry; no factor 1/2 in Keras.\"],\n"
              "    wrong={\"half the key: the 1/2 belongs to tf.nn.l2_loss, not Keras\": answer / 2})\n"
              f"reglab.checks.check(\"{label}\", answer)"),
        _md(f"{NEXT_HEADING}\n\nBack to the map: [00_start_here](00_start_here.ipynb)."),
    ]


def _add_map_row(text: str, name: str, what: str) -> str:
    """Insert ``| [name](notebooks path) | what | - |`` after the last notebook row of a table."""
    rows = list(MAP_ROW.finditer(text))
    if not rows:
        raise InvalidParameterError(
            "root: no map of the notebooks found (rows like '| [00_start_here](...)')")
    last = rows[-1]
    line_end = text.index("\n", last.end()) if "\n" in text[last.end():] else len(text)
    prefix = last.group(2)[: -len(last.group(1) + ".ipynb")]
    row = f"\n| [{name}]({prefix}{name}.ipynb) | {what} | - |"
    return text[:line_end] + row + text[line_end:]


#: The last row of 00's course table: ``| | **total** | **710** | **235** |``.
COURSE_TOTAL = re.compile(r"^\| \| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", re.M)
#: The template's stated time (its first cell), in minutes of core and of appendices.
TEMPLATE_TIME = (45, 0)


def _add_course_row(text: str, number: int, name: str) -> str:
    """Add ``| meeting | [NN](name.ipynb) | 45 | — |`` before the total and add 45 to the total."""
    total = COURSE_TOTAL.search(text)
    meetings = re.findall(r"^\| (\d+) \| \[\d\d\]", text, re.M)
    meeting = int(meetings[-1]) + 1 if meetings else 1
    core, appendices = TEMPLATE_TIME
    row = f"| {meeting} | [{number:02d}]({name}.ipynb) | {core} | {appendices or '—'} |\n"
    new_total = f"| | **total** | **{int(total.group(1)) + core}** | **{int(total.group(2)) + appendices}** |"
    return text[:total.start()] + row + new_total + text[total.end():]


@validated(name=Text(), root=PathLike())
def create_notebook(name: str, root: Path) -> Path:
    """Create ``notebooks/<name>.ipynb`` in the workbook at ``root`` and put it on the maps.

    Nothing is written unless every file can be updated: the maps are edited in memory first.
    """
    notebooks = root / "notebooks"
    if not notebooks.is_dir():
        raise InvalidParameterError(f"root {str(root)!r} is not the workbook (no notebooks/ folder)")
    number, topic = validate_name(name, notebooks)
    name = f"{number:02d}_{topic}"
    what = f"{topic.replace('_', ' ')} (new: describe it here)"
    readme_path = root / "README.md"
    start_path = notebooks / "00_start_here.ipynb"
    previous = sorted(notebooks.glob("*.ipynb"))[-1]

    readme = _add_map_row(readme_path.read_text(encoding="utf-8"), name, what)
    start = read_notebook(start_path)
    map_cell = next((c for c in start.cells if c.cell_type == "markdown"
                     and MAP_ROW.search(source(c))), None)
    if map_cell is None:
        raise InvalidParameterError("root: notebooks/00_start_here.ipynb has no map of the notebooks")
    map_cell.source = _add_map_row(source(map_cell), name, what)
    course = next((c for c in start.cells if c.cell_type == "markdown"
                   and COURSE_TOTAL.search(source(c))), None)
    if course is not None:  # 00's full-course table repeats every notebook's stated time
        course.source = _add_course_row(source(course), number, name)
    last = read_notebook(previous)
    next_cell = next((c for c in reversed(last.cells) if c.cell_type == "markdown"
                      and source(c).lstrip().startswith(NEXT_HEADING)), None)
    if next_cell is not None:
        next_cell.source = source(next_cell).rstrip() + (
            f"\n\nNext, added to the workbook: [{name}]({name}.ipynb).")

    new = nbformat.v4.new_notebook()
    new.metadata = start.metadata
    new.cells = _template_cells(number, topic)
    path = notebooks / f"{name}.ipynb"
    nbformat.write(new, path)
    readme_path.write_text(readme, encoding="utf-8")
    nbformat.write(start, start_path)
    nbformat.write(last, previous)
    return path
