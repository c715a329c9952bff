"""Signal types: the fingerprints OpenNCII computes and exchanges.

Pure numpy: nothing here imports web, database or media-decoding code.
"""

from __future__ import annotations
