"""``python -m degcore``: the same command line as the ``degcore`` script."""

from degcore.cli import main

if __name__ == "__main__":  # worker processes import this module again; only the real run starts
    raise SystemExit(main())
