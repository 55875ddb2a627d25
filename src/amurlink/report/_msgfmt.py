"""Compile gettext ``.po`` catalogs to ``.mo`` (the logic of CPython's ``Tools/i18n/msgfmt.py``).

Run ``python -m amurlink.report._msgfmt`` after editing a catalog under ``src/amurlink/locale``;
a test checks that every committed ``.mo`` equals the compiled ``.po``.
"""

from __future__ import annotations

import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PoEntry", "parse_po", "compile_mo", "compile_catalogs", "LOCALE_DIR", "DOMAIN"]

#: Folder of the catalogs: ``LOCALE_DIR/<lang>/LC_MESSAGES/amurlink.po``.
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
#: The gettext domain.
DOMAIN = "amurlink"


@dataclass
class PoEntry:
    """One catalog entry."""

    msgid: str
    msgstr: str
    msgctxt: str | None = None
    fuzzy: bool = False
    line: int = 0
    flags: set[str] = field(default_factory=set)


def _unquote(text: str, path: Path, lineno: int) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{lineno}: expected a quoted string, got {text!r}")
    return ast.literal_eval(text)


def parse_po(path: str | Path, /) -> list[PoEntry]:
    """Parse a ``.po`` file (no plural forms) into entries, the header (``msgid ""``) first.

    Raises
    ------
    ValueError
        On a syntax error, naming the file and line, or on plural entries (not used here).
    """
    path = Path(path)
    entries: list[PoEntry] = []
    cur: dict[str, str] = {}
    key: str | None = None
    flags: set[str] = set()
    start = 0

    def flush() -> None:
        nonlocal cur, key, flags
        if "msgid" in cur:
            entries.append(PoEntry(cur["msgid"], cur.get("msgstr", ""), cur.get("msgctxt"),
                                   "fuzzy" in flags, start, set(flags)))
        cur, key, flags = {}, None, set()

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,"):
            if "msgid" in cur and "msgstr" in cur:
                flush()
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            if not line and "msgstr" in cur:
                flush()
            continue
        if line.startswith(("msgid_plural", "msgstr[")):
            raise ValueError(f"{path}:{lineno}: plural entries are not supported here")
        for kw in ("msgctxt", "msgid", "msgstr"):
            if line.startswith(kw + " ") or line.startswith(kw + '"'):
                if kw in ("msgctxt", "msgid") and "msgstr" in cur:
                    flush()
                if kw == "msgid" and not cur:
                    start = lineno
                if kw == "msgctxt":
                    start = lineno
                key = kw
                cur[kw] = _unquote(line[len(kw):], path, lineno)
                break
        else:
            if line.startswith('"') and key is not None:
                cur[key] += _unquote(line, path, lineno)
            else:
                raise ValueError(f"{path}:{lineno}: cannot parse {raw!r}")
    flush()
    return entries


def compile_mo(entries: list[PoEntry], /) -> bytes:
    """The GNU ``.mo`` bytes of ``entries`` (fuzzy and untranslated entries left out)."""
    messages: dict[bytes, bytes] = {}
    for e in entries:
        if e.fuzzy and e.msgid:
            continue
        if e.msgid and not e.msgstr:
            continue
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        messages[key.encode("utf-8")] = e.msgstr.encode("utf-8")
    keys = sorted(messages)
    ids = b""
    strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(messages[k])))
        ids += k + b"\0"
        strs += messages[k] + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return (header + struct.pack(f"{len(koffsets)}i", *koffsets)
            + struct.pack(f"{len(voffsets)}i", *voffsets) + ids + strs)


def compile_catalogs(locale_dir: str | Path = LOCALE_DIR, /) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/amurlink.po`` under ``locale_dir``.

    Returns the paths of the ``.mo`` files written.
    """
    written = []
    for po in sorted(Path(locale_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        data = compile_mo(parse_po(po))
        if not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
        written.append(mo)
    return written


if __name__ == "__main__":  # pragma: no cover - build step
    for out in compile_catalogs(*sys.argv[1:]):
        print(out)


def extract_msgids(package_dir: str | Path | None = None, /) -> dict[str, str]:
    """Every message the report uses: ``N_``/``_``/``gettext`` literals in its Python modules
    and ``_()`` / ``gettext`` literals in its templates. Returns msgid -> where."""
    import jinja2

    root = Path(package_dir) if package_dir else Path(__file__).resolve().parent
    found: dict[str, str] = {}
    for py in sorted(root.glob("*.py")):
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("N_", "_", "gettext") and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{py.name}:{node.lineno}")
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    for tpl in sorted((root / "templates").glob("*.j2")):
        for lineno, _func, message in env.extract_translations(tpl.read_text(encoding="utf-8")):
            if isinstance(message, str):
                found.setdefault(message, f"templates/{tpl.name}:{lineno}")
    return found
