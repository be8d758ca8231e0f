"""The shared vmn 3.0.4 run (tests/vectors/shuffle/) laid out as vmn writes it: protInfo.xml, proof dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTOR = Path(__file__).parents[2] / "vectors" / "shuffle" / "verificatum_tw_shuffle_modp512_n10.json"

PROTINFO = """<?xml version="1.0" encoding="UTF-8"?>
<protocol>
   <version>{version}</version>
   <sid>{sid}</sid>
   <name>Vector</name>
   <descr></descr>
   <nopart>1</nopart>
   <statdist>{statdist_n_r}</statdist>
   <bullboard>com.verificatum.protocol.com.BullBoardBasicHTTPW</bullboard>
   <thres>1</thres>
   <pgroup>{pgroup_string}</pgroup>
   <keywidth>{keywidth}</keywidth>
   <vbitlen>128</vbitlen>
   <vbitlenro>{vbitlenro_n_v}</vbitlenro>
   <ebitlen>128</ebitlen>
   <ebitlenro>{ebitlenro_n_e}</ebitlenro>
   <prg>{prg}</prg>
   <rohash>{rohash}</rohash>
   <corr>noninteractive</corr>
   <width>{width}</width>
   <maxciph>0</maxciph>
</protocol>
"""


def load() -> dict[str, Any]:
    """The vector as JSON."""
    return json.loads(VECTOR.read_text())  # type: ignore[no-any-return]


def lay_out(root: Path, vector: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write protInfo.xml and the proof directory under ``root``; returns their paths."""
    vector = vector or load()
    params = vector["protocol_params"]
    protinfo = root / "protInfo.xml"
    protinfo.write_text(PROTINFO.format(**params))
    nizkp = root / "nizkp" / params["auxsid"]
    (nizkp / "proofs").mkdir(parents=True)
    for name, value in (
        ("version", params["version"]),
        ("type", params["type"]),
        ("auxsid", params["auxsid"]),
        ("width", str(params["width"])),
        ("proofs/activethreshold", "1"),
    ):
        (nizkp / name).write_text(value)
    for name, entry in vector["nizkp_files"].items():
        (nizkp / name).write_bytes(bytes.fromhex(entry["raw_hex"]))
    return protinfo, nizkp
