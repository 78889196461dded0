"""Production answers an unknown name without "Did you mean …": the suggestions would map
the schema, one typo at a time, for anyone holding any token (introspection off or not).

strawberry's `StrawberryConfig(disable_field_suggestions=True)` covers unknown fields only;
graphql-core also suggests arguments, types, enum values and input fields. Its suggestions
are always a sentence appended to the message (`graphql.pyutils.did_you_mean`), so this
extension, strawberry's MaskErrors with a predicate, cuts that sentence from every error.
"""

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

SUGGESTION = " Did you mean "


def suggests(error: GraphQLError) -> bool:
    return SUGGESTION in error.message


class HideSuggestions(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=suggests)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            error.message.split(SUGGESTION, 1)[0],
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )
