"""The environment the notebooks are executed in, for tests and for regenerating outputs alike.

Outputs only compare equal under strict nbval if they were produced with the same environment:
``reglab.session.NOTEBOOK_ENV`` (quiet TensorFlow, fixed hash seed, determinism) plus an IPython
directory whose start-up file installs the network guard in every kernel.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reglab.session import NOTEBOOK_ENV

GUARD = Path(__file__).resolve().with_name("network_guard.py")

STARTUP = """\
import importlib.util as _u
_spec = _u.spec_from_file_location("reglab_network_guard", {guard!r})
_mod = _u.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
_mod.install()
del _u, _spec, _mod
"""


def prepare(log_path: str | None = None) -> dict[str, str]:
    """Set and return the notebook environment in ``os.environ`` (kernels inherit it).

    Creates a temporary IPYTHONDIR whose start-up file installs the network guard.
    """
    ipython_dir = Path(tempfile.mkdtemp(prefix="reglab-ipython-"))
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-network-guard.py").write_text(STARTUP.format(guard=str(GUARD)))
    env = dict(NOTEBOOK_ENV)
    env["IPYTHONDIR"] = str(ipython_dir)
    if log_path is not None:
        env["REGLAB_NETWORK_LOG"] = log_path
    os.environ.update(env)
    return env
