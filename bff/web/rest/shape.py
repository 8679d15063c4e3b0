"""A REST shim's answer, and its JSON schema, from one declaration.

A shim's ``Shape`` maps each key of its JSON answer to a dotted path into the GraphQL
``data`` ("order.materials"); the key ``*`` spreads the object at its path into the answer.
The same declaration shapes the data at run time and, applied to the JSON schema that the
GraphQL schema gives the document's result, the answer's schema in /api/openapi.json; so the
OpenAPI document cannot drift from what the route answers.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

Shape = dict[str, str]
JsonSchema = dict[str, Any]

SPREAD = "*"
NULL: JsonSchema = {"type": "null"}
SCALARS: dict[str, JsonSchema] = {
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string", "description": "ISO 8601"},
    "JSON": {},
}


# --- run time ---------------------------------------------------------------------------------


def _at(data: Any, path: str) -> Any:
    for key in path.split("."):
        if data is None:
            return None
        data = data[key]
    return data


def apply_shape(shape: Shape, data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, path in shape.items():
        if key == SPREAD:
            body.update(_at(data, path) or {})
        else:
            body[key] = _at(data, path)
    return body


# --- the schema of the GraphQL result -----------------------------------------------------------


def _nullable(schema: JsonSchema) -> JsonSchema:
    return schema if _is_nullable(schema) else {"anyOf": [schema, NULL]}


def _is_nullable(schema: JsonSchema) -> bool:
    return schema == {} or NULL in schema.get("anyOf", [])


def _object(type_: GraphQLObjectType, selections: SelectionSetNode) -> JsonSchema:
    properties: dict[str, JsonSchema] = {}
    for node in selections.selections:
        if not isinstance(node, FieldNode):  # shim documents select fields only, no fragments
            raise ValueError(f"shim documents select plain fields, not {node.kind}")
        key = node.alias.value if node.alias else node.name.value
        if node.name.value == "__typename":
            properties[key] = {"type": "string"}
            continue
        properties[key] = _output(type_.fields[node.name.value].type, node.selection_set)
    return {"type": "object", "required": sorted(properties), "properties": properties, "additionalProperties": False}


def _output(type_: GraphQLOutputType, selections: SelectionSetNode | None) -> JsonSchema:
    if isinstance(type_, GraphQLNonNull):
        return _non_null(type_.of_type, selections)
    return _nullable(_non_null(type_, selections))


def _non_null(type_: Any, selections: SelectionSetNode | None) -> JsonSchema:
    if isinstance(type_, GraphQLList):
        return {"type": "array", "items": _output(type_.of_type, selections)}
    if isinstance(type_, GraphQLObjectType):
        assert selections is not None
        return _object(type_, selections)
    if isinstance(type_, GraphQLEnumType):
        return {"type": "string", "enum": list(type_.values)}
    if isinstance(type_, GraphQLScalarType):
        return dict(SCALARS.get(type_.name, {}))
    raise ValueError(f"no JSON schema for {type_}")  # interfaces and unions: not in shim documents


def data_schema(schema: GraphQLSchema, document: str) -> JsonSchema:
    """The JSON schema of ``data`` when the document's one operation succeeds."""
    (operation,) = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    assert root is not None
    return _object(root, operation.selection_set)


# --- the schema of the shaped answer ------------------------------------------------------------


def _schema_at(schema: JsonSchema, path: str) -> JsonSchema:
    nullable = False
    for key in path.split("."):
        if _is_nullable(schema) and schema:
            nullable = True
            schema = next(s for s in schema["anyOf"] if s != NULL)
        schema = schema["properties"][key]
    return _nullable(schema) if nullable else schema


def shape_schema(shape: Shape, data: JsonSchema) -> JsonSchema:
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    for key, path in shape.items():
        if key == SPREAD:
            spread = _schema_at(data, path)
            properties.update(spread["properties"])
            required += spread["required"]
        else:
            properties[key] = _schema_at(data, path)
            required.append(key)
    properties["extensions"] = {"type": "object", "description": "GraphQL extensions: ERP cost, timing"}
    return {"type": "object", "required": sorted(required), "properties": properties, "additionalProperties": False}
