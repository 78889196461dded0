"""The master-data bundle format (docs/master-data.md): read, check and write it.

A reader returns the bundle, or None with every problem found (one per line of the report);
it never raises on bad input.
"""

from apgraph.services.bundles.consistency import KnownIds, check_references
from apgraph.services.bundles.csv_reader import read_csv_files
from apgraph.services.bundles.json_reader import read_json, schema
from apgraph.services.bundles.paths import DEFAULT_MAX_BYTES, read_bundle_path, write_bundle_path
from apgraph.services.bundles.uploads import read_upload
from apgraph.services.bundles.writer import write_csv, write_json

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KnownIds",
    "check_references",
    "read_bundle_path",
    "read_csv_files",
    "read_json",
    "read_upload",
    "schema",
    "write_bundle_path",
    "write_csv",
    "write_json",
]
