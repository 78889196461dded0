"""How much reading one bundle may cost, bounded before the work is done.

Bytes bound memory (a file, and a ZIP archive's members once inflated); rows bound the work
and the report (each row is parsed, checked and may be a problem), so a small archive of a
million duplicate rows is refused after the limit's rows, not after a million problems.
"""

from dataclasses import dataclass

from apgraph.domain.bundle import BundleCode, BundleProblem

DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # per file: the JSON file, or each CSV file
DEFAULT_MAX_INFLATED_BYTES = 200 * 1024 * 1024  # a ZIP archive's members together
DEFAULT_MAX_ROWS = 250_000  # entity rows in the whole bundle (PO lines, contacts included)
WHOLE_FILE = "file"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES
    max_rows: int = DEFAULT_MAX_ROWS

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_inflated_bytes, self.max_rows) <= 0:
            raise ValueError(f"bundle read limits must be positive: {self}")


def too_many_rows(file: str, location: str, *, max_rows: int) -> BundleProblem:
    return BundleProblem(
        file,
        location,
        None,
        BundleCode.TOO_LARGE,
        f"the bundle has more than {max_rows} rows; nothing from here on was read: split it",
    )
