"""When two supplier invoice numbers are one number, however they are written.

A supplier's invoice number names one invoice. `DUP-77`, `DUP77` and `DUP-077`, `INV-001`
with a full-width `００１`, a no-break or zero-width space inside, an en dash for the hyphen,
or a Cyrillic `І` for the Latin `I`, all name the same one, so the duplicate rule compares
`key(number)` instead of the text. Each step is a policy knob (matching.duplicates in
gateway.yaml); the confusables table comes from the policy layer (a kept copy of Unicode's
confusables data), so this module stays pure.

The key, in order:
1. Unicode NFKC, then case-folded (full-width and compatibility forms become plain ones).
2. Invisible characters removed: spaces of every kind, zero-width and other format
   characters, controls. Decimal digits of any script become ASCII digits.
3. Leading zeros of each run of digits dropped, runs being delimited by anything else
   (`INV-0001` → `INV-1`; `2024-007` → `2024-7`; a run of zeros stays `0`).
4. Punctuation and symbols removed (hyphens, dashes, slashes, dots, `#`).
5. Each character replaced by its confusables prototype (`І`, `l`, `1` alike), then
   case-folded again: the Unicode skeleton idea, applied to what is left.

The store keeps each invoice's key with the fingerprint of the rules that made it, so it can
find a number's duplicates by index (`NumberKey`); a key made under other rules is not
trusted (store/number_keys.py).
"""

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})
_DIGITS = re.compile(r"[0-9]+")
_ASCII_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f]+")
_ASCII_PUNCTUATION = re.compile(r"[^0-9a-z]+")  # what is left once case-folded and visible
# Part of every fingerprint: raise it whenever `key` changes what it returns for some number,
# so keys stored by the old code are made again (Unicode's own version is part of it too).
KEY_ALGORITHM = 1


@dataclass(frozen=True, slots=True)
class NumberKey:
    """An invoice number's key, and the fingerprint of the rules that made it."""

    key: str
    rules: str  # NumberRules.fingerprint


@dataclass(frozen=True, slots=True)
class NumberRules:
    """How invoice numbers are compared; every step on by default.

    `confusables` maps code points to their prototype, as `str.translate` takes it (the
    policy layer builds it from Unicode's data); empty turns step 5 off.
    """

    fold_unicode: bool = True  # step 1
    ignore_separators: bool = True  # steps 2 and 4
    ignore_leading_zeros: bool = True  # step 3
    confusables: Mapping[int, str] = field(default_factory=dict)  # step 5
    # Of every setting, the table, Unicode's version and KEY_ALGORITHM: rules that differ in
    # any of them differ here (short of a hash collision), so a key stored under one is never
    # trusted under the other. Made once, with the rules: hashing the full confusables table
    # takes milliseconds, so the policy layer builds its rules once, not per request.
    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        described = repr(
            (
                KEY_ALGORITHM,
                unicodedata.unidata_version,
                self.fold_unicode,
                self.ignore_separators,
                self.ignore_leading_zeros,
                sorted(self.confusables.items()),
            )
        )
        digest = hashlib.blake2b(described.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "fingerprint", digest)

    def keyed(self, number: str) -> NumberKey:
        """`key(number)` with these rules' fingerprint, as the store keeps it."""
        return NumberKey(self.key(number), self.fingerprint)

    def key(self, number: str) -> str:
        """The form two numbers are compared in; trimmed and case-folded at the least.

        Called for every invoice of the supplier on each submission, so plain ASCII numbers
        (nearly all) skip the per-character Unicode look-ups.
        """
        text = number.strip()
        plain = text.isascii()
        if self.fold_unicode and not plain:
            text = unicodedata.normalize("NFKC", text)
        text = text.casefold()
        if self.ignore_separators:
            text = (
                _ASCII_INVISIBLE.sub("", text)
                if plain
                else "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
            )
        if not plain:
            text = "".join(_ascii_digit(c) for c in text)
        if self.ignore_leading_zeros:
            text = _DIGITS.sub(_without_leading_zeros, text)
        if self.ignore_separators:
            text = (
                _ASCII_PUNCTUATION.sub("", text)
                if plain
                else "".join(c for c in text if unicodedata.category(c)[0] not in "PS")
            )
        if self.confusables:
            text = text.translate(self.confusables).casefold()
        return text


def edit_distance(a: str, b: str, *, at_most: int) -> int:
    """Levenshtein distance (insert, delete, replace one character), or `at_most + 1` as
    soon as it is known to be larger: near-duplicate numbers differ by a keystroke or two."""
    if abs(len(a) - len(b)) > at_most:
        return at_most + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > at_most:
            return at_most + 1
        previous = current
    return min(previous[-1], at_most + 1)


def _ascii_digit(char: str) -> str:
    if char.isdecimal() and not char.isascii():
        return str(unicodedata.decimal(char))
    return char


def _without_leading_zeros(run: re.Match[str]) -> str:
    return run.group().lstrip("0") or "0"
