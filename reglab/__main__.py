"""``python -m reglab``: the ``reglab`` command (see ``reglab.cli``)."""

from reglab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
