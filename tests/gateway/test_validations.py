"""A query text is validated once per schema and rules; its errors are answered again."""

import strawberry
from graphql import ASTValidationRule, FieldNode, GraphQLError
from strawberry.extensions import AddValidationRules

from apgraph.gateway.recent import Recent
from apgraph.gateway.validations import Validations, ValidationsByText

VISITS: list[str] = []


class NoteVisits(ASTValidationRule):
    """Notes each field graphql-core's validation visits: a kept answer visits none."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        VISITS.append(node.name.value)


class NoSecrets(ASTValidationRule):
    """A second rule set, to tell a schema's validations under other rules apart."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value == "secret":
            self.report_error(GraphQLError("no secrets here"))


@strawberry.type
class Query:
    @strawberry.field
    def greeting(self) -> str:
        return "hello"

    @strawberry.field
    def secret(self) -> str:
        return "s3cr3t"


def schema(known: Validations, *rules: type[ASTValidationRule]) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[
            lambda: AddValidationRules([NoteVisits, *rules]),
            lambda: ValidationsByText(known=known),
        ],
    )


def test_a_valid_text_is_validated_once_and_answered_every_time():
    VISITS.clear()
    answering = schema(Recent(8))
    for _ in range(3):
        result = answering.execute_sync("{ greeting }")
        assert result.errors is None
        assert result.data == {"greeting": "hello"}
    assert VISITS == ["greeting"]


def test_an_invalid_text_gets_the_same_errors_every_time_without_validating_again():
    VISITS.clear()
    answering = schema(Recent(8))
    first = answering.execute_sync("{ greeting nope }")
    again = answering.execute_sync("{ greeting nope }")
    assert first.errors is not None
    assert again.errors is not None
    assert [e.message for e in again.errors] == [e.message for e in first.errors]
    assert "nope" in first.errors[0].message
    assert again.data is None
    assert VISITS == ["greeting", "nope"]


def test_another_text_is_validated_afresh():
    VISITS.clear()
    answering = schema(Recent(8))
    answering.execute_sync("{ greeting }")
    answering.execute_sync("{ secret }")
    assert VISITS == ["greeting", "secret"]


def test_a_text_valid_under_some_rules_is_validated_again_under_others():
    known: Validations = Recent(8)
    lenient, strict = schema(known), schema(known, NoSecrets)
    assert lenient.execute_sync("{ secret }").data == {"secret": "s3cr3t"}
    refused = strict.execute_sync("{ secret }")
    assert refused.data is None
    assert [e.message for e in refused.errors or ()] == ["no secrets here"]


def test_errors_answered_again_are_a_list_of_their_own():
    answering = schema(Recent(8))
    first = answering.execute_sync("{ nope }")
    assert first.errors is not None
    first.errors.clear()
    again = answering.execute_sync("{ nope }")
    assert again.errors is not None
    assert len(again.errors) == 1
