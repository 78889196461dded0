"""The master-data bundle format (docs/master-data.md): read, check and write it.

A reader returns the bundle, or None with every problem found (one per line of the report);
it never raises on bad input. Its `*_result` twin also gives the partial bundle of the rows
that parsed, whose references to stored data the importer checks (services/onboarding).
"""

from apgraph.domain.bundle import KnownIds
from apgraph.services.bundles.assembly import ReadResult
from apgraph.services.bundles.consistency import check_references
from apgraph.services.bundles.csv_reader import read_csv_files, read_csv_files_result
from apgraph.services.bundles.json_reader import read_json, read_json_result, schema
from apgraph.services.bundles.limits import DEFAULT_MAX_BYTES, ReadLimits
from apgraph.services.bundles.paths import (
    read_bundle_path,
    read_bundle_path_result,
    write_bundle_path,
)
from apgraph.services.bundles.uploads import read_upload, read_upload_result
from apgraph.services.bundles.writer import write_csv, write_json

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KnownIds",
    "ReadLimits",
    "ReadResult",
    "check_references",
    "read_bundle_path",
    "read_bundle_path_result",
    "read_csv_files",
    "read_csv_files_result",
    "read_json",
    "read_json_result",
    "read_upload",
    "read_upload_result",
    "schema",
    "write_bundle_path",
    "write_csv",
    "write_json",
]
