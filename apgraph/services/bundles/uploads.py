"""Bundles that arrive as one uploaded file: the JSON form, or the CSV folder as a ZIP archive.

An archive is checked before it is inflated: every member's declared size against the
per-file limit, their sum against the whole upload's, and each member is read with a bound,
so a small archive that inflates to gigabytes (a "zip bomb") is refused, not unpacked.
Folders inside the archive are flattened only when the whole bundle sits in one folder (as
`zip -r bundle.zip bundle/` makes it).
"""

import io
import zipfile
from dataclasses import dataclass, replace

from apgraph.domain.bundle import (
    BundleCode,
    BundleProblem,
    KnownIds,
    MasterDataBundle,
    ProblemTally,
)
from apgraph.services.bundles.assembly import ReadResult
from apgraph.services.bundles.csv_reader import read_csv_files_result
from apgraph.services.bundles.json_reader import read_json_result
from apgraph.services.bundles.limits import DEFAULT_MAX_BYTES, WHOLE_FILE, ReadLimits
from apgraph.services.bundles.paths import too_large

Read = tuple[MasterDataBundle | None, list[BundleProblem]]


@dataclass(frozen=True, slots=True)
class TalliedRead:
    """A ReadResult whose problems are tallied (the first listed, all counted): what a worker
    process hands back, small whatever the upload held."""

    bundle: MasterDataBundle | None
    partial: MasterDataBundle
    problems: ProblemTally


def read_upload(
    name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, known: KnownIds | None = None
) -> Read:
    """`name` is the uploaded file's name: `.json` or `.zip` (of the CSV files)."""
    return read_upload_result(name, data, max_bytes=max_bytes, known=known).pair()


def read_upload_tallied(
    name: str, data: bytes, *, limits: ReadLimits, known: KnownIds | None, listed_at_most: int
) -> TalliedRead:
    """As `read_upload_result` within `limits`, the problems tallied. A module-level function
    of picklable arguments, so a worker process can run it."""
    read = read_upload_result(name, data, limits=limits, known=known)
    return TalliedRead(
        read.bundle,
        _distinct(read.partial),
        ProblemTally.of(read.problems, listed_at_most=listed_at_most),
    )


def _distinct(bundle: MasterDataBundle) -> MasterDataBundle:
    """The partial bundle only serves to ask the store about the IDs it refers to: rows
    repeated identically (the worst case, a million copies of one row) are sent back once."""
    return replace(
        bundle,
        facilities=tuple(dict.fromkeys(bundle.facilities)),
        cost_centers=tuple(dict.fromkeys(bundle.cost_centers)),
        suppliers=tuple(dict.fromkeys(bundle.suppliers)),
        purchase_orders=tuple(dict.fromkeys(bundle.purchase_orders)),
        goods_receipts=tuple(dict.fromkeys(bundle.goods_receipts)),
        contract_prices=tuple(dict.fromkeys(bundle.contract_prices)),
    )


def read_upload_result(
    name: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known: KnownIds | None = None,
    limits: ReadLimits | None = None,
) -> ReadResult:
    """As `read_upload`, with the partial bundle of the rows that parsed. `data` may run past
    `max_bytes` (a caller reads one byte more to tell): the upload is then refused unread.
    `limits`, given, replaces `max_bytes` and adds the inflated-bytes and row limits."""
    limits = limits or ReadLimits(max_bytes=max_bytes, max_inflated_bytes=2 * max_bytes)
    if len(data) > limits.max_bytes:
        return ReadResult(None, [too_large(name, len(data), limits.max_bytes)])
    lowered = name.lower()
    if lowered.endswith(".json"):
        return read_json_result(data, name=name, known=known, max_rows=limits.max_rows)
    if lowered.endswith(".zip"):
        return _read_archive(name, data, limits=limits, known=known)
    message = "expected a .json file or a .zip of CSVs"
    return ReadResult(None, [_problem(name, BundleCode.UNKNOWN_FILE, message)])


def _read_archive(
    name: str, data: bytes, *, limits: ReadLimits, known: KnownIds | None
) -> ReadResult:
    max_bytes = limits.max_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as error:
        problem = _problem(name, BundleCode.MALFORMED, f"not a readable ZIP archive: {error}")
        return ReadResult(None, [problem])
    declared = sum(member.file_size for member in members)
    inflated_limit = limits.max_inflated_bytes
    if declared > inflated_limit:
        message = f"inflates to {declared} bytes, more than the limit of {inflated_limit}"
        return ReadResult(None, [_problem(name, BundleCode.TOO_LARGE, message)])
    inflated = 0
    prefix = _common_folder([member.filename for member in members])
    files: dict[str, bytes] = {}
    refused: list[BundleProblem] = []
    for member in members:
        inner = member.filename.removeprefix(prefix)
        if inner.split("/")[-1].startswith(".") or inner.startswith("__MACOSX/"):
            continue
        if "/" in inner:
            refused.append(
                _problem(inner, BundleCode.UNKNOWN_FILE, "bundle files sit in one folder")
            )
            continue
        # declared sizes can lie: what is actually inflated counts against the limit too
        read = _bounded_member(archive, member, min(max_bytes, inflated_limit - inflated))
        if isinstance(read, BundleProblem):
            refused.append(read)
        else:
            files[inner] = read
            inflated += len(read)
    return read_csv_files_result(files, known=known, refused=refused, max_rows=limits.max_rows)


def _bounded_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_bytes: int
) -> bytes | BundleProblem:
    """Never trusts the declared size alone: reads at most one byte past the limit."""
    name = member.filename.split("/")[-1]
    if member.file_size > max_bytes or max_bytes <= 0:
        return _problem(name, BundleCode.TOO_LARGE, f"{member.file_size} bytes inflated")
    try:
        with archive.open(member) as file:
            data = file.read(max_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as error:
        return _problem(name, BundleCode.MALFORMED, f"cannot be unpacked: {error}")
    if len(data) > max_bytes:
        return _problem(name, BundleCode.TOO_LARGE, f"more than {max_bytes} bytes inflated")
    return data


def _common_folder(names: list[str]) -> str:
    """ "bundle/" when every member sits in that one folder; "" otherwise."""
    heads = {name.split("/", 1)[0] for name in names if not name.startswith("__MACOSX/")}
    if len(heads) == 1 and all("/" in n for n in names if not n.startswith("__MACOSX/")):
        return f"{heads.pop()}/"
    return ""


def _problem(file: str, code: BundleCode, message: str) -> BundleProblem:
    return BundleProblem(file, WHOLE_FILE, None, code, message)
