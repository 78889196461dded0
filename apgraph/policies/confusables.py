"""Unicode's confusables as the duplicate rule takes them: each character → its prototype.

The data is Unicode's confusables.txt as the `confusable_homoglyphs` package keeps it, in
its wheel (nothing is fetched at run time). For each character the package lists what it is
confusable with: a character that maps to a prototype lists that one prototype; a prototype
lists every character that maps to it. So a character listing one other character maps to
it, unless that one is not a prototype either (a pair confusable only with each other), in
which case both map to the smaller of the two: what matters is that confusable characters
land on one key, not which.
"""

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

_MARKS = "\u200e\u200f"  # the package wraps right-to-left characters in direction marks


@cache
def prototypes() -> Mapping[int, str]:
    """code point → prototype, for every character that is not its own prototype (as
    `str.translate` takes it)."""
    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text())
    listed = {char: [h["c"].strip(_MARKS) for h in entries] for char, entries in data.items()}
    mapping: dict[int, str] = {}
    for char, others in listed.items():
        if len(char) != 1 or len(others) != 1 or len(others[0]) != 1:
            continue
        (other,) = others
        prototype = other if len(listed.get(other, ())) > 1 else min(char, other)
        if prototype != char:
            mapping[ord(char)] = prototype
    return mapping
