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
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
