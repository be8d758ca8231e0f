"""A tiny, insecure group for fast tests and readable vectors — never for an election.

p = 2q + 1 with a 62-bit prime q; the same code as modp4096 (:class:`ModpGroup`), so tests over
it exercise the real backend with small numbers. It is deliberately not registered in
:func:`degcore.groups.get_group`.
"""

from __future__ import annotations

from degcore.groups.modp import ModpGroup

__all__ = ["TOY"]

TOY = ModpGroup("toy-insecure", 4611686018427394499, 2305843009213697249)
