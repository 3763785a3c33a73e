"""The routes of a resource whose life cycle a service keeps (campaigns, workflows):
list, create, read, change, delete, and its actions (start, pause...), each forwarded to
the service's RPCs named after it (`list_campaigns`, `create_campaign`...). The service
answers 409 for an action or change its status does not allow."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.routes.call import Call
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Answer, Route


@dataclass(frozen=True)
class Lifecycle:
    service: str
    name: str  # singular: "campaign"; the collection is /v1/<name>s
    read: str  # scopes
    write: str
    schema: type  # marshmallow schemas of the resource, its input and its patch
    input: type
    patch: type
    act: str  # the service's RPC for an action: (id, action, actor)
    actions: dict[str, str]  # action -> summary
    summaries: dict[str, str]  # list, create, get, update, delete -> summary

    @property
    def collection(self) -> str:
        return f"/v1/{self.name}s"

    @property
    def key(self) -> str:
        return f"{self.name}_id"

    @property
    def one(self) -> str:
        return f"{self.collection}/<{self.key}>"


def _named(handler, name: str):
    handler.__name__ = name  # the OpenAPI operationId
    return handler


def _handlers(kind: Lifecycle) -> dict:
    plural, key = f"{kind.name}s", kind.key

    def list_all(c: Call):
        return c.rpc(kind.service, f"list_{plural}", **page_args(c.args))

    def create(c: Call):
        made = c.rpc(kind.service, f"create_{kind.name}", c.body, c.actor)
        return Answer(201, made, {"Location": f"{kind.collection}/{made['id']}"})

    def get(c: Call):
        return c.rpc(kind.service, f"get_{kind.name}", c.params[key])

    def update(c: Call):
        return c.rpc(kind.service, f"update_{kind.name}", c.params[key], c.body, c.actor)

    def delete(c: Call):
        c.rpc(kind.service, f"delete_{kind.name}", c.params[key], c.actor)
        return Answer(204)

    return {
        "list": _named(list_all, f"list_{plural}"),
        "create": _named(create, f"create_{kind.name}"),
        "get": _named(get, f"get_{kind.name}"),
        "update": _named(update, f"update_{kind.name}"),
        "delete": _named(delete, f"delete_{kind.name}"),
    }


def _action(kind: Lifecycle, action: str):
    def handler(c: Call):
        return c.rpc(kind.service, kind.act, c.params[kind.key], action, c.actor)

    return _named(handler, f"{action}_{kind.name}")


def lifecycle_routes(kind: Lifecycle) -> tuple[Route, ...]:
    handlers, tag, summary = _handlers(kind), f"{kind.name}s", kind.summaries
    read, write, schema = kind.read, kind.write, kind.schema
    return (
        Route(
            "GET",
            kind.collection,
            handlers["list"],
            summary["list"],
            read,
            tag,
            response=schema,
            many=True,
            query=PAGE,
        ),
        Route(
            "POST",
            kind.collection,
            handlers["create"],
            summary["create"],
            write,
            tag,
            body=kind.input,
            response=schema,
            status=201,
        ),
        Route("GET", kind.one, handlers["get"], summary["get"], read, tag, response=schema),
        Route(
            "PATCH",
            kind.one,
            handlers["update"],
            summary["update"],
            write,
            tag,
            body=kind.patch,
            response=schema,
        ),
        Route("DELETE", kind.one, handlers["delete"], summary["delete"], write, tag, status=204),
        *(
            Route(
                "POST",
                f"{kind.one}/{action}",
                _action(kind, action),
                about + " (409 when its status does not allow it)",
                write,
                tag,
                response=schema,
            )
            for action, about in kind.actions.items()
        ),
    )
