from collections.abc import Sequence
from typing import Any

import numpy.typing as npt

_Buf = npt.NDArray[Any] | bytes

def build_table(
    codes: _Buf,
    start: int,
    width: int,
    pbits: int,
    removed: _Buf,
    offsets: _Buf,
    entries: _Buf,
    /,
) -> int: ...
def search(
    codes: _Buf,
    delta: _Buf,
    removed: _Buf,
    tables: Sequence[tuple[int, int, int, int, _Buf, _Buf]],
    queries: _Buf,
    threshold: int,
    use_tables: bool,
    /,
) -> tuple[bytes, bytes]: ...
