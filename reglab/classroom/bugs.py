"""Find-the-bug exercises: the student's fixed model, graded by the doctor.

A find-the-bug exercise hands the student broken code of the thread (drawn per student with
``reglab.classroom.variants.variant``) and asks for the fixed model, loss or graph. Its check
cell is a ``check_that`` whose predicate builds the doctor's report on the answer and calls
``fixed``::

    def ex4_fixed(answer):
        return bugs.fixed(reglab.doctor.diagnose(answer), penalty=intended_penalty(answer))

    reglab.checks.check_that("Exercise 4: find the bug", answer, ex4_fixed,
                             requirement="the doctor finds nothing and the penalty is the intended one")
"""

from __future__ import annotations

import math
from typing import Any

from reglab.checks import Wrong
from reglab.params import InstanceOf, NoneOr, Real, validated

#: Finding severities that fail a fix (``info`` findings only inform).
FAILING = ("error", "warning")


@validated(report=InstanceOf("reglab.doctor.report:Report",
                             example=lambda: __import__("reglab.doctor.report", fromlist=["Report"])
                             .Report(source="keras", model="m")),
           penalty=NoneOr(Real(0.0)), rtol=Real(0.0, open_minimum=True))
def fixed(report: Any, *, penalty: float | None = None, rtol: float = 1e-5) -> bool:
    """True when ``report`` has no error or warning finding and, if ``penalty`` is given, its
    total weight penalty is ``penalty`` within ``|p - penalty| <= rtol * penalty``.

    Otherwise raises ``reglab.checks.Wrong`` saying what the doctor still finds (each code with
    the catalogue's one-line description: the pitfall, not the finding's prescription) or that
    the penalty is not the intended one (without giving the intended value).
    """
    failing = [f for f in report.findings if f.severity in FAILING]
    if failing:
        from reglab.doctor.findings import CATALOGUE

        # the catalogue's description names the pitfall; the finding's own message would give the fix
        raise Wrong("the doctor still finds: " + "; ".join(
            f"{code} ({CATALOGUE[code][2]})" for code in dict.fromkeys(f.code for f in failing)) + ".")
    if penalty is not None:
        total = report.total_penalty
        if total is None or not math.isclose(total, penalty, rel_tol=rtol, abs_tol=0.0):
            what = "cannot be measured" if total is None else (
                "is larger" if total > penalty else "is smaller")
            raise Wrong(f"the doctor finds no pitfall, but the penalty {what} than the one the "
                        "exercise asks for: check the constant and which weights carry it.")
    return True
