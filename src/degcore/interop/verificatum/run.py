"""Reading a Verificatum run: protInfo.xml (VMNV §7.2) and the proof directory (VMNV §9.1).

The proof directory (vmn's ``dir/nizkp/<auxsid>``) holds the ASCII files ``version``, ``type``,
``auxsid`` and ``width``, the byte trees ``FullPublicKey.bt``, ``Ciphertexts.bt`` and
``ShuffledCiphertexts.bt`` (or ``Plaintexts.bt``), and ``proofs/`` with ``activethreshold`` and,
per mix server l (two digits), ``PermutationCommitment<l>.bt``, ``PoSCommitment<l>.bt``,
``PoSReply<l>.bt`` and its output ``Ciphertexts<l>.bt``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from degcore.elgamal import Ciphertext, PublicKey
from degcore.errors import InvalidInput, UnsupportedFormat
from degcore.interop.verificatum.bytetree import ByteTree, children, node, parse
from degcore.interop.verificatum.groups import VGroup, parse_pgroup
from degcore.mixnet import Row

__all__ = [
    "ProofDirectory",
    "ProtInfo",
    "ciphertexts_tree",
    "read_ciphertexts",
    "read_protinfo",
    "read_public_key",
]

#: protInfo.xml is a few kilobytes; anything far larger is not one.
_MAX_PROTINFO = 4 * 1024 * 1024
#: A single byte-tree file (ciphertext lists of a million rows fit well below this).
MAX_TREE_FILE = 8 * 1024**3


@dataclass(frozen=True, slots=True)
class ProtInfo:
    """The parameters of a session that the verifier uses."""

    version: str
    sid: str
    k: int  # nopart: number of mix servers
    threshold: int  # thres: λ
    pgroup: str
    keywidth: int
    n_r: int  # statdist
    n_v: int  # vbitlenro
    n_e: int  # ebitlenro
    prg: str
    rohash: str
    width: int
    vgroup: VGroup


def _text(root: ET.Element, tag: str) -> str:
    found = root.find(tag)
    if found is None or found.text is None:
        raise InvalidInput(f"protInfo.xml: missing <{tag}>")
    return found.text.strip()


def _number(root: ET.Element, tag: str, low: int = 0) -> int:
    text = _text(root, tag)
    if not text.isdigit() or int(text) < low or len(text) > 9:
        raise InvalidInput(f"protInfo.xml: <{tag}> must be an integer ≥ {low}, got {text[:40]!r}")
    return int(text)


def read_protinfo(path: str | Path) -> ProtInfo:
    """Parse protInfo.xml; InvalidInput for anything missing or malformed."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > _MAX_PROTINFO:
        raise InvalidInput(f"{path}: {len(data)} bytes is too large for a protInfo.xml")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidInput(f"{path}: document type declarations are not allowed (as in vmn)")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD (refused above), so no entity expansion
    except ET.ParseError as exc:
        raise InvalidInput(f"{path}: not well-formed XML ({exc})") from None
    if root.tag != "protocol":
        raise InvalidInput(f"{path}: the root element is <{root.tag}>, not <protocol>")
    pgroup = _text(root, "pgroup")
    info = ProtInfo(
        version=_text(root, "version"),
        sid=_text(root, "sid"),
        k=_number(root, "nopart", 1),
        threshold=_number(root, "thres", 1),
        pgroup=pgroup,
        keywidth=_number(root, "keywidth", 1),
        n_r=_number(root, "statdist"),
        n_v=_number(root, "vbitlenro", 1),
        n_e=_number(root, "ebitlenro", 1),
        prg=_text(root, "prg"),
        rohash=_text(root, "rohash"),
        width=_number(root, "width", 1) if root.find("width") is not None else 1,
        vgroup=parse_pgroup(pgroup),
    )
    if info.threshold > info.k:
        raise InvalidInput("protInfo.xml: <thres> is larger than <nopart>")
    if info.keywidth != 1:
        raise UnsupportedFormat(f"keywidth {info.keywidth} is not supported (only 1)")
    return info


class ProofDirectory:
    """The files of one proof directory, read on demand with clear errors."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise InvalidInput(f"{self.path} is not a directory")
        self.proofs = self.path / "proofs"

    def text(self, name: str, default: str | None = None, *, inner: bool = False) -> str:
        """An ASCII file (``version``, ``type``, …), stripped."""
        file = (self.proofs if inner else self.path) / name
        if not file.exists() and default is not None:
            return default
        try:
            raw = file.read_bytes()[:4096]
        except OSError as exc:
            raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from None
        try:
            return raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise InvalidInput(f"{file}: not ASCII text") from None

    def number(self, name: str, default: int | None = None, *, inner: bool = False) -> int:
        """A decimal number file (``width``, ``activethreshold``)."""
        text = self.text(name, None if default is None else str(default), inner=inner)
        if not text.isdigit() or len(text) > 9:
            raise InvalidInput(f"{name}: expected a non-negative integer, got {text[:40]!r}")
        return int(text)

    def exists(self, name: str, *, inner: bool = False) -> bool:
        """Whether a file is present."""
        return ((self.proofs if inner else self.path) / name).exists()

    def tree(self, name: str, *, inner: bool = False) -> ByteTree:
        """A byte-tree file, parsed strictly."""
        file = (self.proofs if inner else self.path) / name
        try:
            size = file.stat().st_size
            if size > MAX_TREE_FILE:
                raise InvalidInput(f"{file}: {size} bytes is beyond what this verifier reads")
            data = file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from None
        return parse(data, file.name)


def read_ciphertexts(
    vgroup: VGroup, tree: ByteTree, width: int, what: str, count: int | None = None
) -> list[Row]:
    """A list of width-w ciphertexts node(U, V) as degcore rows of (a, b) = (u_k, v_k)."""
    u_tree, v_tree = children(tree, what, 2)
    us = vgroup.wide_array(u_tree, width, f"{what} (first components)", None)
    vs = vgroup.wide_array(v_tree, width, f"{what} (second components)", len(us) if width == 1 else None)
    if len(us) != len(vs):
        raise InvalidInput(f"{what}: {len(us)} first components but {len(vs)} second components")
    if count is not None and len(us) != count:
        raise InvalidInput(f"{what}: {len(us)} ciphertexts, expected {count}")
    if not us:
        raise InvalidInput(f"{what}: no ciphertexts")
    return [
        tuple(Ciphertext(a, b) for a, b in zip(ru, rv, strict=True)) for ru, rv in zip(us, vs, strict=True)
    ]


def ciphertexts_tree(vgroup: VGroup, rows: list[Row]) -> ByteTree:
    """Inverse of :func:`read_ciphertexts`."""
    width = len(rows[0])
    return node(
        vgroup.wide_array_tree([[ct.a for ct in row] for row in rows], width),
        vgroup.wide_array_tree([[ct.b for ct in row] for row in rows], width),
    )


def read_public_key(vgroup: VGroup, tree: ByteTree) -> PublicKey:
    """FullPublicKey.bt = node(g, y) with g the group's standard generator."""
    g_tree, y_tree = children(tree, "FullPublicKey.bt", 2)
    g = vgroup.element(g_tree, "FullPublicKey.bt g")
    if g != vgroup.group.generator():
        raise InvalidInput("FullPublicKey.bt: the basic public key is not the standard generator")
    return PublicKey(vgroup.group, vgroup.element(y_tree, "FullPublicKey.bt y"))
