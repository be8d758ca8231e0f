"""Foreign formats: reading and checking what other voting systems publish.

One subpackage per foreign system; :mod:`degcore.interop.verificatum` reads and verifies
Verificatum (vmn 3.x) runs. What any foreign format could use (named curve parameters, the generic
Weierstrass group) is in :mod:`degcore.groups` (``groups.curves``, ``groups.weierstrass``).
"""
