"""Schemas of what the gateway itself answers (OpenAPI): problems, pages, health."""

from marshmallow import Schema, fields


class Problem(Schema):
    type = fields.String(metadata={"description": "URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field path (e.g. address.country) -> messages"},
    )
    instance = fields.String(
        metadata={"description": "the request's id (X-Request-Id), to find it in the logs"}
    )


class Ready(Schema):
    status = fields.String(metadata={"description": "ready or not ready"})
    services = fields.Dict(keys=fields.String(), values=fields.String())
