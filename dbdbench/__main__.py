"""``python -m dbdbench ...`` runs the command line, exactly like the ``dbdbench`` script."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
