"""Each query text's validation, remembered per schema.

strawberry's `ValidationCache` memoises `validate_document` on the parsed document, and
graphql-core's nodes do not keep their hash: every request hashed the whole document tree
again, about a twentieth of a portal page's pipeline (issue 19). Keyed here by the query's
text and the validation rules (one pass over the text), through strawberry's public
extension hook; on a miss strawberry validates as it would without this extension.
"""

from collections.abc import Iterator

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import SchemaExtension

from apgraph.gateway.recent import Recent

ValidationKey = tuple[str, tuple[type[ASTValidationRule], ...]]
Validations = Recent[ValidationKey, tuple[GraphQLError, ...]]


class ValidationsByText(SchemaExtension):
    """Answers a query text validated before with the same errors (none, for a valid one);
    `known` is one schema's, shared by its operations."""

    def __init__(self, *, known: Validations) -> None:
        self.known = known

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        key: ValidationKey | None = None
        found = None
        if execution.query is not None:
            key = (execution.query, tuple(execution.validation_rules))
            found = self.known.get(key)
        if found is not None:  # a list of its own: nothing after this can change the kept one
            execution.pre_execution_errors = list(found)
        yield
        errors = execution.pre_execution_errors
        if key is not None and found is None and errors is not None:
            self.known.put(key, tuple(errors))
