"""The optional native ristretto255 accelerator (docs/architecture.md); everything else is in pyproject.toml.

The extension is variable-time code for public data (verification). ``optional=True``: where it
cannot be compiled, the install still succeeds and degcore runs on the pure-Python path (rbcl).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "degcore.groups._ristretto255",
            sources=["src/degcore/groups/_ristretto255.c"],
            # -O3 (no -march: the wheel runs on any x86-64): 6-8% fewer instructions in decoding and
            # MSMs than -O2. The constant-time check compiles its harness with these same flags.
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
