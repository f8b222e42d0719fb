"""The interactive explorer: TensorFlow Playground for regularization.

Modules, each importing only the ones above it in this list:

``result``    ``TrainResult`` (one trained setting and its curves, per step) and ``NEAR_ZERO``
``controls``  the controls' labels, the lambda slider's range (``lambda_grid``), the status line
``engine``    ``Engine``: a dataset's Keras network trained by one compiled TensorFlow loop
``figure``    the four panels, redrawn by blitting
``explorer``  ``Explorer``: the current setting, the cache, background prefetch, ``render_png``
``widgets``   ``ExplorerApp``, the JupyterLab widget (needs ipywidgets)
``static``    the kernel-free page of the book (``static.html``)

A setting is ``(dataset, kind, lam)``: kind "none", "l1" or "l2", lam in the Keras convention
(``lam * sum(w**2)`` for L2; slim's, in notebook 08, halves it).  The dataset ``"toy2d"`` (its
``reglab.data`` name, what code passes) is "moons" wherever people read it: buttons, pictures,
status line, static page (``controls.DATASET_LABELS``).  The names a notebook uses are
re-exported here.
"""

from reglab.explorer.controls import lambda_grid
from reglab.explorer.engine import DATASETS, KINDS, LEARNING_RATE, SIZES, STEPS, TEST_SIZE, Engine
from reglab.explorer.explorer import Explorer
from reglab.explorer.result import NEAR_ZERO, TrainResult

__all__ = ["DATASETS", "KINDS", "LEARNING_RATE", "NEAR_ZERO", "SIZES", "STEPS", "TEST_SIZE", "Engine",
           "Explorer", "TrainResult", "lambda_grid"]
