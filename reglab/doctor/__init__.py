"""The regularization doctor: what a model, graph or train step regularizes, and whether it
reaches the loss.  ``diagnose(obj, ...)`` is the entry (``reglab.doctor.diagnose``); the command
line is ``reglab doctor MODEL.keras``.
"""

from reglab.doctor.diagnose import ACCEPTED, diagnose, model_kind
from reglab.doctor.findings import CATALOGUE, Finding
from reglab.doctor.report import ActivityRow, LossRow, Report, WeightRow

__all__ = ["ACCEPTED", "CATALOGUE", "ActivityRow", "Finding", "LossRow", "Report", "WeightRow", "diagnose",
           "model_kind"]
