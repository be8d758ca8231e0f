"""Commands for the people who run an election (``degcore trustee …``), beside :mod:`degcore.cli`."""
