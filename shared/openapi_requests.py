"""How the OpenAPI documents describe request bodies beyond what pydantic says by itself: the rules
:func:`shared.http.validate_model` applies to every request."""

from __future__ import annotations

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

NO_NUL_PATTERN = "^[^\\u0000]*$"
_WHITE_SPACE = "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^{_WHITE_SPACE}\\u0000][^\\u0000]*$"
"""For a string whose surrounding white space is stripped (Unicode's White_Space, as pydantic strips
it) before its minimum length is checked: at least one character is not white space."""


class RequestSchemas(GenerateJsonSchema):
    """Says in the document what :func:`shared.http.validate_model` refuses in every request string:
    U+0000, which PostgreSQL's text and jsonb cannot hold, and a blank value where white space is
    stripped and something is required. A string with a pattern of its own says it already (none of
    ours admits U+0000)."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        result = super().str_schema(schema)
        if self.mode == "validation" and "pattern" not in result:
            not_blank = schema.get("strip_whitespace") and schema.get("min_length", 0) > 0
            result["pattern"] = NOT_BLANK_PATTERN if not_blank else NO_NUL_PATTERN
        return result

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # A key pattern alone would leave keys outside it unconstrained: they are refused, so say so.
        result = super().dict_schema(schema)
        if self.mode == "validation" and "patternProperties" in result:
            result.setdefault("additionalProperties", False)
        return result
