"""The OpenAPI 3.1 description of /api/ (kept beside the views; a test checks they agree)."""

from __future__ import annotations

from typing import Any

_ERR = {"$ref": "#/components/responses/Error"}


def _get(summary: str, *, params: list[dict[str, Any]] | None = None,
         auth: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": params or [],
                          "responses": {"200": {"description": "OK",
                                                "content": {"application/json": {}}},
                                        "404": _ERR}}
    if auth:
        op["responses"]["401"] = _ERR
    return op


def _report(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/UploadReport"}}}}


_ID = {"name": "dataset_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 5000}}


def openapi_schema() -> dict[str, Any]:
    from amurlink import __version__
    from amurlink_web.apps.datasets.sources import KINDS

    return {
        "openapi": "3.1.0",
        "info": {"title": "amurlink API", "version": __version__,
                 "description": "Every response with locations is protected for the reader "
                                "(owner: exact; partner: the agreement's level; public: "
                                "withheld at tiger and leopard stations)."},
        "components": {
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": "Authorization",
                                          "description": "Token <key> (see /account/)"},
                                "session": {"type": "apiKey", "in": "cookie",
                                            "name": "sessionid"}},
            "responses": {"Error": {"description": "error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
                "UploadReport": {
                    "type": "object", "required": ["upload", "status", "report", "issues"],
                    "properties": {
                        "upload": {"type": "integer"},
                        "status": {"enum": ["imported", "duplicate", "rejected"]},
                        "dataset": {"type": ["integer", "null"]},
                        "report": {"type": "string", "description": "the report's page"},
                        "error": {"type": "string", "description": "when rejected"},
                        "issues": {"type": "array", "items": {
                            "type": "object", "required": ["code", "severity", "message"],
                            "properties": {k: {"type": ["string", "integer", "null"]}
                                           for k in ("code", "severity", "message", "file",
                                                     "table", "row", "field", "fix")}}}}},
            },
        },
        "security": [{"token": []}, {"session": []}, {}],
        "paths": {
            "/api/": {"get": _get("API index")},
            "/api/openapi.json": {"get": _get("This schema")},
            "/api/datasets/": {
                "get": _get("Datasets the reader may see"),
                "post": {"summary": "Upload a dataset (contributor role): a zipped Camtrap "
                                    "DP package, national tables with their import mapping, "
                                    "a Wildlife Insights download or MegaDetector results",
                         "parameters": [{"name": "organisation", "in": "query",
                                         "required": True, "schema": {"type": "string"}}],
                         "requestBody": {"content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["package"], "properties": {
                                 "package": {"type": "string", "format": "binary",
                                             "description": "the file (a zip, or the "
                                                            "MegaDetector JSON)"},
                                 "title": {"type": "string"},
                                 "kind": {"type": "string", "enum": list(KINDS),
                                          "default": "camtrap-dp",
                                          "description": "what the file is: camtrap-dp (a "
                                                         "zipped package), mapping (national "
                                                         "tables and their mapping TOML, "
                                                         "zipped), wildlife-insights (a "
                                                         "zipped project download), "
                                                         "megadetector (results added to the "
                                                         "organisation's current dataset)"},
                                 "timezone": {"type": "string", "maxLength": 64,
                                              "examples": ["Asia/Vladivostok"],
                                              "description": "IANA time zone of the camera "
                                                             "clocks of a wildlife-insights "
                                                             "or megadetector upload "
                                                             "(default: Asia/Shanghai for a "
                                                             "Chinese park, Asia/Vladivostok "
                                                             "for a Russian one, else UTC)"}}}}}},
                         "responses": {"201": _report("imported"),
                                       "200": _report("already imported"),
                                       "400": {"description": "malformed input: the upload is "
                                                              "rejected and answered with its "
                                                              "report (status 'rejected', the "
                                                              "issues naming file, row and "
                                                              "field, an error line); or an "
                                                              "error alone when no package "
                                                              "was sent",
                                               "content": {"application/json": {"schema": {
                                                   "oneOf": [{"$ref": "#/components/schemas/"
                                                                      "UploadReport"},
                                                             {"$ref": "#/components/schemas/"
                                                                      "Error"}]}}}},
                                       "401": _ERR, "403": _ERR, "404": _ERR, "413": _ERR}},
            },
            "/api/datasets/{dataset_id}/": {"get": _get("One dataset", params=[_ID])},
            "/api/datasets/{dataset_id}/deployments/": {
                "get": _get("Deployments, locations protected for the reader", params=[_ID])},
            "/api/datasets/{dataset_id}/observations/": {
                "get": _get("Observations", params=[_ID, _LIMIT])},
            "/api/datasets/{dataset_id}/media/": {
                "get": _get("Media (no images of people beyond their owner)",
                            params=[_ID, _LIMIT])},
            "/api/agreements/": {"get": _get("Agreements of the reader's organisations",
                                             auth=True)},
            "/api/identities/": {"get": _get("The joint catalogue", auth=True)},
            "/api/links/": {"get": _get("Identity links (latest event of each pair)", auth=True,
                                        params=[{"name": "status", "in": "query", "schema": {
                                            "enum": ["proposed", "confirmed", "rejected"]}}])},
            "/api/links/{link_event_id}/review/": {"post": {
                "summary": "Accept, reject or reopen a link (reviewers of the parks)",
                "parameters": [{"name": "link_event_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["decision"], "properties": {
                        "decision": {"enum": ["accept", "reject", "reopen"]},
                        "reason": {"type": "string"}}}}}},
                "responses": {"200": {"description": "the appended event"}, "400": _ERR,
                              "401": _ERR, "403": _ERR, "404": _ERR,
                              "409": {"description": "refused by the link store's conflict "
                                                     "checks"}}}},
        },
    }
