"""``python -m reglab``: the command line of the workbook (see ``reglab.cli``)."""

from reglab.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
