"""Bytes → text (UTF-8, a leading BOM accepted) and text → JSON, failures as one problem each.

Spreadsheet programs save "CSV UTF-8" with a BOM, so a BOM is stripped, never reported. Any
other encoding is refused with the row of its first bad byte: guessing latin-1 would
silently turn a supplier's name into mojibake.
"""

import json

from apgraph.domain.bundle import BundleCode, BundleProblem

BOM = b"\xef\xbb\xbf"


def decoded(data: bytes, *, file: str, unit: str) -> str | BundleProblem:
    """`unit` names the location of a bad byte: "row" (CSV) or "line" (JSON)."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = data[: error.start].count(b"\n") + 1
        return BundleProblem(
            file,
            f"{unit} {where}",
            None,
            BundleCode.MALFORMED,
            f"not UTF-8: byte 0x{data[error.start]:02X} in {unit} {where}; save the file as UTF-8",
        )


def parsed_json(data: bytes, *, file: str) -> tuple[object, BundleProblem | None]:
    """The document, or the problem that makes the whole file unreadable."""
    text = decoded(data, file=file, unit="line")
    if isinstance(text, BundleProblem):
        return None, text
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, BundleProblem(
            file,
            f"line {error.lineno} column {error.colno}",
            None,
            BundleCode.MALFORMED,
            f"not JSON: {error.msg}",
        )
    except RecursionError:
        return None, BundleProblem(
            file, "line 1", None, BundleCode.MALFORMED, "not JSON: nested too deeply"
        )
