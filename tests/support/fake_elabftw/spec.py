"""Every request the fake receives and every answer it sends, checked against eLabFTW's OpenAPI description.

The validator is openapi-core. The description (`../shared/ref/elabftw/openapi-v2.yaml`) is loaded without
checking the description itself: it has schema errors of its own in parts the fake never serves (null
defaults on non-nullable strings of the instance `config`, `type: int` in `idp`), which would refuse it whole.

Where the real server knowingly departs from its description, the answer is checked through a view that
undoes exactly that departure, each one listed in `spec_view` with where the fact comes from.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request

from tests.support.shared import shared_path


@functools.cache
def _description() -> dict[str, Any]:
    with shared_path("ref", "elabftw", "openapi-v2.yaml").open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)  # type: ignore[no-any-return]


def load(base_url: str) -> OpenAPI:
    """The description with the fake's own address as its only server."""
    spec = {**_description(), "servers": [{"url": base_url}]}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@dataclass
class CheckedResponse:
    """An answer as openapi-core reads it (status, content type, headers, body)."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def spec_view(body: Any) -> Any:
    """The answer with the server's known departures from the description undone, for checking only:

    - `metadata` is sent as the JSON text of the column (src/Models/AbstractEntity.php readOne; the
      description types it as an object): checked decoded, a malformed text as null;
    - `exclusive_edit_mode` is null when nobody holds the edit lock (readOne: `empty(...) ? null`; the
      description's object is not nullable): left out;
    - an error's `code` is the exception's integer code (Apiv2Controller::getResponse; described as a string).
    """
    if isinstance(body, list):
        return [spec_view(item) for item in body]
    if not isinstance(body, dict):
        return body
    view = dict(body)
    if isinstance(view.get("metadata"), str):
        try:
            view["metadata"] = json.loads(view["metadata"])
        except ValueError:
            view["metadata"] = None
        if not isinstance(view["metadata"], dict):
            view["metadata"] = None
    if "exclusive_edit_mode" in view and view["exclusive_edit_mode"] is None:
        del view["exclusive_edit_mode"]
    if set(view) == {"code", "message", "description"} and isinstance(view["code"], int):
        view["code"] = str(view["code"])
    return view


def request_errors(openapi: OpenAPI, request: Request) -> list[str]:
    """What is wrong with a request, in the validator's words (empty when it conforms)."""
    return [_words(e) for e in openapi.iter_request_errors(WerkzeugOpenAPIRequest(request))]


def response_errors(openapi: OpenAPI, request: Request, status: int, content_type: str, headers: dict[str, str],
                    data: bytes) -> list[str]:
    body = data
    if content_type == "application/json" and data:
        body = json.dumps(spec_view(json.loads(data))).encode()
    response = CheckedResponse(status, content_type, Headers(headers), body or None)
    errors = list(openapi.iter_response_errors(WerkzeugOpenAPIRequest(request), response))
    if status >= 400 and errors and all(type(e).__name__ == "ResponseNotFound" for e in errors):
        # eLabFTW answers any AppException with its HTTP status and the Error body, whether or not the
        # operation lists that status (Apiv2Controller::getResponse): such an answer must be an Error
        return _error_schema_problems(json.loads(body) if body else None)
    return [_words(e) for e in errors]


def _error_schema_problems(body: Any) -> list[str]:
    schema = _description()["components"]["schemas"]["Error"]
    validator = OAS30Validator(schema)
    return [f"Error body: {e.message}" for e in validator.iter_errors(body)]


def is_security_error(words: str) -> bool:
    return "Security" in words.split(":", 1)[0]


def _words(error: Exception) -> str:
    causes = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 4:
        details = getattr(cause, "schema_errors", None)
        text = "; ".join(str(d.message) for d in details)[:400] if details else str(cause)[:400]
        causes.append(f"{type(cause).__name__}: {text}")
        cause = cause.__cause__
    return " <- ".join(causes)
