"""The election record: every public fact of an election as files (docs/record.md).

:func:`write_record` writes it from the running services; :class:`RecordReader` reads it strictly
and in streams for the verifier (:mod:`degcore.verify`).
"""

from __future__ import annotations

from degcore.record import layout
from degcore.record.reader import Limits, RecordReader, load_context
from degcore.record.writer import RecordWriter, check_inputs, log_line, sign_record, write_record

__all__ = [
    "Limits",
    "RecordReader",
    "RecordWriter",
    "check_inputs",
    "layout",
    "load_context",
    "log_line",
    "sign_record",
    "write_record",
]
