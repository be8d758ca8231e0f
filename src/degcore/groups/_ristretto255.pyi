# Types of the native extension compiled from _ristretto255.c (variable-time; public data only).
from collections.abc import Sequence

def decode(data: bytes, /) -> bytes: ...
def precompute(point: bytes, /) -> object: ...
def multi_exp(
    points: bytes,
    scalars: bytes,
    tables: Sequence[object] | None = ...,
    table_scalars: bytes = ...,
    method: int = ...,
) -> bytes: ...
