"""``python -m dbdbench.cli`` runs the command line (kept for scripts written before ``python -m dbdbench``)."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    main()
