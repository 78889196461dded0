"""Whatever the bytes, a reader answers with problems, never with an exception."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.services.bundles import KnownIds, read_csv_files, read_json, write_json
from tests.services.bundles.examples import csv_files

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


EXAMPLE = json.loads(write_json(read_csv_files(csv_files())[0]))
PATHS = [path for path in _paths(EXAMPLE) if path]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=JSON_VALUES)
def test_any_value_anywhere_in_a_json_bundle_is_reported_not_raised(path, value):
    # given the example with one value replaced
    doc = json.loads(json.dumps(EXAMPLE))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    # when
    bundle, problems = read_json(json.dumps(doc).encode(), known=KnownIds())

    # then it is either valid or refused with located problems
    assert (bundle is None) == bool(problems)
    assert all(problem.location for problem in problems)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), name=st.sampled_from(sorted(csv_files())))
def test_any_bytes_in_a_bundle_file_are_reported_not_raised(data, name):
    # given
    files = csv_files()
    files[name] = data

    # when
    bundle, problems = read_csv_files(files, known=KnownIds())

    # then
    assert (bundle is None) == bool(problems)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_json_bundle_are_reported_not_raised(data):
    bundle, problems = read_json(data)
    assert (bundle is None) == bool(problems)
