"""Bundles on disk: a `.json` file or a folder of CSV files, sizes checked before reading.

The only module here that touches the file system; the readers and writers take and give
bytes.
"""

from pathlib import Path
from typing import Literal

from apgraph.domain.bundle import BundleCode, BundleProblem, KnownIds, MasterDataBundle
from apgraph.services.bundles.assembly import ReadResult
from apgraph.services.bundles.csv_reader import read_csv_files_result
from apgraph.services.bundles.json_reader import read_json_result
from apgraph.services.bundles.limits import DEFAULT_MAX_BYTES, WHOLE_FILE
from apgraph.services.bundles.writer import write_csv, write_json


def too_large(name: str, size: int, max_bytes: int) -> BundleProblem:
    """A file refused by its size, before (or instead of) reading it."""
    return BundleProblem(
        name,
        WHOLE_FILE,
        None,
        BundleCode.TOO_LARGE,
        f"{size} bytes is more than the limit of {max_bytes}; split the bundle",
    )


def _bounded(path: Path, max_bytes: int) -> bytes | BundleProblem:
    """Reads at most one byte past the limit: the size on disk may have changed since."""
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        return too_large(path.name, len(data), max_bytes)
    return data


def read_bundle_path(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, known: KnownIds | None = None
) -> tuple[MasterDataBundle | None, list[BundleProblem]]:
    """A `.json` file or a folder of CSV files. Names starting with "." are ignored (editors
    and file managers leave them); `known` as in the readers."""
    return read_bundle_path_result(path, max_bytes=max_bytes, known=known).pair()


def read_bundle_path_result(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, known: KnownIds | None = None
) -> ReadResult:
    """As `read_bundle_path`, with the partial bundle of the rows that parsed."""
    if path.is_dir():
        return _read_folder(path, max_bytes=max_bytes, known=known)
    if not path.is_file():
        message = f"no such file or folder: {path}"
        return ReadResult(
            None, [BundleProblem(path.name, WHOLE_FILE, None, BundleCode.MISSING_FILE, message)]
        )
    if path.suffix.lower() != ".json":
        message = "expected a .json file or a folder of CSV files"
        problem = BundleProblem(path.name, WHOLE_FILE, None, BundleCode.UNKNOWN_FILE, message)
        return ReadResult(None, [problem])
    size = path.stat().st_size
    if size > max_bytes:
        return ReadResult(None, [too_large(path.name, size, max_bytes)])
    data = _bounded(path, max_bytes)
    if isinstance(data, BundleProblem):
        return ReadResult(None, [data])
    return read_json_result(data, name=path.name, known=known)


def _read_folder(folder: Path, *, max_bytes: int, known: KnownIds | None) -> ReadResult:
    refused: list[BundleProblem] = []
    files: dict[str, bytes] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_file():
            refused.append(
                BundleProblem(entry.name, WHOLE_FILE, None, BundleCode.UNKNOWN_FILE, "not a file")
            )
            continue
        size = entry.stat().st_size
        if size > max_bytes:
            refused.append(too_large(entry.name, size, max_bytes))
            continue
        data = _bounded(entry, max_bytes)
        if isinstance(data, BundleProblem):
            refused.append(data)
        else:
            files[entry.name] = data
    return read_csv_files_result(files, known=known, refused=refused)


def write_bundle_path(
    bundle: MasterDataBundle, path: Path, *, format: Literal["json", "csv"]
) -> None:
    """json: `path` is the file written; csv: `path` is a folder, created if need be, whose
    bundle files are overwritten (a stale `policy.json` is removed when there is no policy)."""
    if format == "json":
        path.write_bytes(write_json(bundle))
        return
    path.mkdir(parents=True, exist_ok=True)
    files = write_csv(bundle)
    for name, data in files.items():
        (path / name).write_bytes(data)
    stale = path / "policy.json"
    if "policy.json" not in files and stale.exists():
        stale.unlink()
