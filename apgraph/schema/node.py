"""The `Node` interface: every major object is found again by its canonical ID."""

import strawberry


@strawberry.interface(description="An object with a canonical, prefixed ID (e.g. INV-00000042).")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The canonical ID; node(id:) finds the object again."
    )
