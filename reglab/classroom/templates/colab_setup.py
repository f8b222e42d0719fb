# Set-up. On a hosted kernel (Colab) without reglab, this installs it first (about a minute).
import importlib
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("reglab") is None and importlib.util.find_spec("google") is not None \
        and importlib.util.find_spec("google.colab") is not None:
    source = os.environ.get("REGLAB_INSTALL_SOURCE", "reglab @ git+https://github.com/OWNER/reglab")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()

import reglab

reglab.setup()          # quiet TF logs, short tracebacks, seeds, op determinism
