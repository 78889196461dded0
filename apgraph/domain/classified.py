"""Classified values as anyone without the right to see them whole is shown them."""

MASK_CHARACTER = "•"


def mask(value: str) -> str:
    """All but the last four characters hidden, the length kept."""
    return MASK_CHARACTER * max(len(value) - 4, 0) + value[-4:]


def is_masked(value: str) -> bool:
    """A masked value is never a real one: it must not be written back over the real one."""
    return MASK_CHARACTER in value
