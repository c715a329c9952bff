"""Decoding images and videos into RGB pixels (no web, no database)."""

from __future__ import annotations
