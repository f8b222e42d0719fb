"""No test compares a computed float with ``==`` unless it is exact by construction.

On another CPU (AVX-512, another BLAS or oneDNN kernel) the last bit of a computed float can
differ: ``10.0 ** -5`` vectorized by NumPy is ``9.999999999999999e-06`` there.  A comparison
``==`` / ``!=`` is flagged when one side is a float literal, a power, an arithmetic expression
with a float literal, or a call to a floating-point function (``exp``, ``log``, ``sqrt``,
``mean`` ...), and neither side is ``pytest.approx``.  Where the value is exact by construction
(copied, parsed from the same literal, a count), say so on the line with a ``# exact:`` comment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FLOAT_FUNCTIONS = {"exp", "log", "log10", "log2", "sqrt", "power", "mean", "std", "var", "norm",
                   "dot", "matmul", "float32", "float64"}


def _name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _inexact(node: ast.AST) -> bool:
    """Whether ``node``'s value may be a float whose last bit depends on the machine."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float) and node.value != 0.0
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Pow) or _inexact(node.left) or _inexact(node.right)
    if isinstance(node, ast.UnaryOp):
        return _inexact(node.operand)
    if isinstance(node, ast.Call):
        return _name(node) in FLOAT_FUNCTIONS
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return any(map(_inexact, node.elts))
    return False


def exact_float_comparisons(source: str) -> list[int]:
    """Line numbers of ``==``/``!=`` comparisons of possibly inexact floats without a tolerance."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Compare) and any(isinstance(o, (ast.Eq, ast.NotEq)) for o in node.ops)):
            continue
        operands = [node.left, *node.comparators]
        if any(isinstance(o, ast.Call) and _name(o) == "approx" for o in operands):
            continue
        if any(map(_inexact, operands)) and "# exact:" not in lines[node.lineno - 1]:
            found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_exact_comparison_of_computed_floats(path: Path):
    found = exact_float_comparisons(path.read_text(encoding="utf-8"))
    assert not found, f"{path.name}: compare with pytest.approx, or mark '# exact: why' on lines {found}"


@pytest.mark.parametrize(("source", "flagged"), [
    ("assert grid[0] == 10.0 ** -5", True),
    ("assert np.mean(a) == b", True),
    ("assert x == [1e-3, 2.0]", True),
    ("assert grid[0] == pytest.approx(10.0 ** -5)", False),
    ("assert table['c'] == 1e-3  # exact: parsed from the same literal", False),
    ("assert len(x) == 3 and f(1e-3) == []", False),
])
def test_the_scan_flags_what_it_should(source: str, flagged: bool):
    assert bool(exact_float_comparisons(source)) is flagged
