"""The CSV form: a folder's files (name → bytes) → records, header and syntax checked.

A file that cannot be read at all (bad encoding, broken quoting, no header, another
delimiter) is one problem and its rows are skipped; the other files are still read.
"""

import csv
import io
import itertools
from collections.abc import Mapping, Sequence

from apgraph.domain.bundle import BundleCode, BundleProblem, KnownIds, MasterDataBundle
from apgraph.services.bundles.assembly import RawBundle, ReadResult, assemble
from apgraph.services.bundles.decoding import decoded, parsed_json
from apgraph.services.bundles.fields import Record, Source
from apgraph.services.bundles.layout import CSV_FILES, POLICY_FILE, CsvFile
from apgraph.services.bundles.limits import DEFAULT_MAX_ROWS, too_many_rows

_BY_NAME = {csv_file.name: csv_file for csv_file in CSV_FILES}
_OTHER_DELIMITERS = (";", "\t", "|")
_KEYS = {"id", "purchase_order_id", "line_no"}
HEADER = "row 1"
WHOLE_FILE = "file"


def read_csv_files(
    files: Mapping[str, bytes],
    *,
    known: KnownIds | None = None,
    refused: Sequence[BundleProblem] = (),
    max_rows: int = DEFAULT_MAX_ROWS,
) -> tuple[MasterDataBundle | None, list[BundleProblem]]:
    """A missing entity file means no rows of that entity; `known` as in `assemble`.

    `refused`: problems found before reading (a file too large to read); such a file is
    unreadable, so what refers to its rows is not reported again. Past `max_rows` rows in
    all the files together, reading stops: the file that crossed it is refused whole.
    """
    return read_csv_files_result(files, known=known, refused=refused, max_rows=max_rows).pair()


def read_csv_files_result(
    files: Mapping[str, bytes],
    *,
    known: KnownIds | None = None,
    refused: Sequence[BundleProblem] = (),
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ReadResult:
    """As `read_csv_files`, with the partial bundle of the rows that parsed."""
    raw = RawBundle(problems=list(refused), unreadable={problem.file for problem in refused})
    if not files and not refused:
        raw.problems.append(
            BundleProblem(
                "(folder)", WHOLE_FILE, None, BundleCode.MISSING_FILE, "no bundle files found"
            )
        )
    for name in sorted(files):
        if name == POLICY_FILE:
            policy, problem = parsed_json(files[name], file=name)
            if problem is not None:
                raw.problems.append(problem)
            else:
                raw.policy = (Source(name, "", pointer=True), policy)
        elif name in _BY_NAME:
            rows_left = max_rows - sum(len(records) for records in raw.records.values())
            records, identified = _records(
                _BY_NAME[name], files[name], raw.problems, rows_left=rows_left, max_rows=max_rows
            )
            raw.records[name] += records
            if not identified:
                raw.unreadable.add(name)
        else:
            expected = ", ".join([*_BY_NAME, POLICY_FILE])
            raw.problems.append(
                BundleProblem(
                    name,
                    WHOLE_FILE,
                    None,
                    BundleCode.UNKNOWN_FILE,
                    f"not a bundle file (expected {expected})",
                )
            )
    return assemble(raw, known=known)


def _records(
    layout: CsvFile, data: bytes, problems: list[BundleProblem], *, rows_left: int, max_rows: int
) -> tuple[list[Record], bool]:
    """The rows, and whether they are identified: false when the file cannot be read, holds
    more than `rows_left` rows, or a key column is missing, so references to its rows cannot
    be judged. Rows past the limit are never parsed."""

    def problem(location: str, field: str | None, code: BundleCode, message: str) -> None:
        problems.append(BundleProblem(layout.name, location, field, code, message))

    text = decoded(data, file=layout.name, unit="row")
    if isinstance(text, BundleProblem):
        problems.append(text)
        return [], False
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(itertools.islice(reader, max(rows_left, 0) + 2))  # the header, one too many
    except csv.Error as error:
        problem(f"row {reader.line_num}", None, BundleCode.MALFORMED, f"not CSV: {error}")
        return [], False
    if len(rows) > max(rows_left, 0) + 1:
        problems.append(too_many_rows(layout.name, f"row {len(rows)}", max_rows=max_rows))
        return [], False
    if not rows or not any(cell.strip() for cell in rows[0]):
        problem(
            HEADER, None, BundleCode.MALFORMED, "no header row: the first row names the columns"
        )
        return [], False

    header = [cell.strip() for cell in rows[0]]
    if len(header) == 1 and any(mark in header[0] for mark in _OTHER_DELIMITERS):
        problem(
            HEADER,
            header[0][:60],
            BundleCode.UNKNOWN_COLUMN,
            "the delimiter must be a comma: the header reads as this one column",
        )
        return [], False
    for position, column in enumerate(header):
        if column in header[:position]:
            problem(HEADER, column, BundleCode.DUPLICATE, "the column appears twice")
        elif column not in layout.columns:
            problem(
                HEADER,
                column,
                BundleCode.UNKNOWN_COLUMN,
                f"not a column of {layout.name} ({', '.join(layout.columns)})",
            )
    missing = [column for column in layout.required if column not in header]
    for column in missing:
        problem(HEADER, column, BundleCode.MISSING_COLUMN, "a required column is missing")

    records = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line, e.g. at the end of the file
        if len(row) != len(header):
            problem(
                f"row {number}",
                None,
                BundleCode.MALFORMED,
                f"has {len(row)} cells; the header has {len(header)}",
            )
            continue
        values = {
            column: cell
            for column, cell in zip(header, row, strict=True)
            if column in layout.columns
        }
        records.append(
            Record(Source(layout.name, f"row {number}", pointer=False), values, frozenset(missing))
        )
    return records, not _KEYS.intersection(missing)
