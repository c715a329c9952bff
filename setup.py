"""Build the C kernels of openncii.index; all project metadata lives in pyproject.toml."""

from __future__ import annotations

import platform

from setuptools import Extension, setup

_FLAGS = ["-O3", "-std=c11"]
if platform.machine().lower() in {"x86_64", "amd64"}:
    # POPCNT: every x86-64 CPU since 2008 (x86-64-v2).
    _FLAGS.append("-mpopcnt")

setup(
    ext_modules=[
        Extension(
            "openncii.index._mih",
            sources=["src/openncii/index/_mih.c"],
            extra_compile_args=_FLAGS,
        )
    ]
)
