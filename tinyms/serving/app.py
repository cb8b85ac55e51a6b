"""The Flask app: a thin HTTP adapter over :class:`tinyms.serving.core.ServingCore`.

Routes:
    ``GET /``                             the web page (pick or drop an image)
    ``GET /health``                       liveness and each servable's status
    ``GET /servables``                    every servable with its classes
    ``GET /servables/<name>``             one servable
    ``POST /servables/<name>/predict``    classify one image
    ``GET /openapi.json``                 the OpenAPI 3 description of the above

Every error is a JSON body ``{"error": code, "message": ..., "status": ...,
"request_id": ...}`` and is logged once with its request id. The request id is
the client's ``X-Request-ID`` header when it is a short token, else a new
UUID, and is sent back in the ``X-Request-ID`` response header.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
import uuid
from importlib import resources
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from tinyms.serving.config import ServingConfig, load_config
from tinyms.serving.core import (
    DEFAULT_MAX_BATCH_SIZE,
    InvalidRequestError,
    ServableUnavailableError,
    ServingCore,
    UnknownServableError,
)

__all__ = ["create_app", "CORE_KEY", "RAW_IMAGE_TYPES"]

logger = logging.getLogger(__name__)

#: Key of the :class:`ServingCore` in ``app.extensions``.
CORE_KEY = "tinyms_serving"
#: Content types taken as the raw bytes of an encoded image, besides ``image/*``.
RAW_IMAGE_TYPES = ("application/octet-stream",)
_JSON_TYPES = ("application/json",)
_MULTIPART_TYPE = "multipart/form-data"
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_DATA_URL_PATTERN = re.compile(r"^data:[\w.+/-]*(;[\w=.+-]+)*;base64,", re.IGNORECASE)
_STATUS_CODES = {
    "empty_body": 400,
    "malformed_json": 400,
    "missing_field": 400,
    "invalid_field": 400,
    "invalid_base64": 400,
    "invalid_image": 400,
    "invalid_strategy": 400,
    "image_too_large": 413,
}
_SUPPORTED_TYPES = ["multipart/form-data", "application/json", "image/*", *RAW_IMAGE_TYPES]


def _read_resource(name: str) -> bytes:
    return resources.files("tinyms.serving").joinpath("static", name).read_bytes()


def create_app(
    config: ServingConfig | str | os.PathLike | None = None,
    *,
    core: ServingCore | None = None,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
) -> Flask:
    """Build the serving app and load every servable once.

    Args:
        config: A :class:`ServingConfig`, the path of a configuration file, or
            ``None`` (default) for the default location (see
            :func:`tinyms.serving.config.default_config_path`).
        core: An already loaded :class:`ServingCore`; ``config`` is then ignored.
        max_batch_size: Largest batch of one forward pass; 1 turns batching off.

    Returns:
        The Flask app; its core is ``app.extensions['tinyms_serving']``.

    Example:
        >>> app = create_app('servables.yaml')
        >>> app.test_client().get('/health').get_json()['status']
        'ok'
    """
    if core is None:
        if not isinstance(config, ServingConfig):
            config = load_config(config)
        core = ServingCore(config, max_batch_size=max_batch_size)
        core.load()

    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = core.config.max_content_length
    app.config["MAX_FORM_MEMORY_SIZE"] = core.config.max_content_length
    app.json.sort_keys = False
    app.extensions[CORE_KEY] = core

    _add_request_hooks(app)
    _add_error_handlers(app)
    _add_routes(app, core)
    return app


def _add_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        logger.debug(
            "request %s: %s %s -> %d in %.1f ms", request_id, request.method, request.path,
            response.status_code, (time.perf_counter() - g.get("started", time.perf_counter()))
            * 1000,
        )
        return response


def _error_response(status: int, code: str, message: str, *, log: bool = True,
                    **extra: Any) -> Response:
    request_id = g.get("request_id", "")
    if not log:
        pass
    elif status >= 500:
        logger.error("request %s: %s %s -> %d %s: %s", request_id, request.method,
                     request.path, status, code, message)
    else:
        logger.warning("request %s: %s %s -> %d %s: %s", request_id, request.method,
                       request.path, status, code, message)
    body = {"error": code, "message": message, "status": status, **extra,
            "request_id": request_id}
    response = jsonify(body)
    response.status_code = status
    return response


def _add_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidRequestError)
    def invalid_request(err: InvalidRequestError) -> Response:
        return _error_response(_STATUS_CODES.get(err.code, 400), err.code, str(err))

    @app.errorhandler(UnknownServableError)
    def unknown_servable(err: UnknownServableError) -> Response:
        return _error_response(404, "unknown_servable", str(err), known=err.known)

    @app.errorhandler(ServableUnavailableError)
    def unavailable(err: ServableUnavailableError) -> Response:
        return _error_response(503, "servable_unavailable", str(err))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        status = err.code or 500
        extra: dict[str, Any] = {}
        if status == 404:
            code, message = "not_found", f"No route for {request.path!r}; see /openapi.json."
        elif status == 405:
            allowed = sorted(getattr(err, "valid_methods", None) or [])
            code = "method_not_allowed"
            message = (f"Method {request.method} is not allowed on {request.path!r}. "
                       f"Allowed methods: {', '.join(allowed)}.")
            extra["allowed"] = allowed
        elif status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            code = "payload_too_large"
            message = (f"The request body is larger than the limit of {limit} bytes. Send a "
                       "smaller image, or raise max_content_length in the serving configuration.")
            extra["limit"] = limit
        else:
            code = (err.name or "error").lower().replace(" ", "_")
            message = err.description or err.name or "Request failed."
        response = _error_response(status, code, message, **extra)
        if status == 405:
            response.headers["Allow"] = ", ".join(extra["allowed"])
        return response

    @app.errorhandler(Exception)
    def internal_error(err: Exception) -> Response:
        logger.exception("request %s: %s %s -> 500 internal_error", g.get("request_id", ""),
                         request.method, request.path)
        return _error_response(500, "internal_error",
                               f"Internal server error ({type(err).__name__}). See the server "
                               "log for this request id.", log=False)


def _decode_base64(value: str) -> bytes:
    text = _DATA_URL_PATTERN.sub("", value.strip(), count=1)
    text = "".join(text.split()).replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidRequestError(
            "invalid_base64",
            "The 'image' field is not valid base64. Encode the image file's bytes with "
            "standard or URL-safe base64.",
        ) from err


def _read_json_body(strategy: str) -> tuple[bytes, str]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidRequestError(
            "empty_body", "The request body is empty. Send JSON {\"image\": \"<base64>\"}."
        )
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidRequestError(
            "malformed_json", f"The request body is not valid JSON: {err}."
        ) from err
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            "invalid_field",
            f"Expected a JSON object {{\"image\": \"<base64>\"}}, got {type(payload).__name__}.",
        )
    if "image" not in payload:
        raise InvalidRequestError(
            "missing_field",
            "The JSON body has no 'image' field. Send {\"image\": \"<base64 of the image file>\"}.",
        )
    image = payload["image"]
    if not isinstance(image, str):
        raise InvalidRequestError(
            "invalid_field",
            f"The 'image' field must be a base64 string, got {type(image).__name__}.",
        )
    data = _decode_base64(image)
    if "strategy" in payload:
        strategy = payload["strategy"]
    return data, strategy


def _read_image() -> tuple[bytes, str]:
    """Return the image bytes and the strategy of a predict request."""
    strategy = request.args.get("strategy", "TOP1_CLASS")
    mimetype = request.mimetype
    if mimetype == _MULTIPART_TYPE:
        upload = request.files.get("file")
        if upload is None:
            raise InvalidRequestError(
                "missing_field",
                "The multipart body has no 'file' field. Send the image as the form field "
                "'file'.",
            )
        return upload.read(), request.form.get("strategy", strategy)
    if mimetype in _JSON_TYPES or mimetype.endswith("+json"):
        return _read_json_body(strategy)
    if mimetype.startswith("image/") or mimetype in RAW_IMAGE_TYPES:
        return request.get_data(cache=False), strategy
    if not mimetype and not request.content_length and not request.get_data(cache=False):
        raise InvalidRequestError(
            "empty_body", "The request body is empty. Send an image (see /openapi.json)."
        )
    raise _UnsupportedMediaType(mimetype)


class _UnsupportedMediaType(Exception):
    def __init__(self, mimetype: str):
        self.mimetype = mimetype
        super().__init__(mimetype)


def _add_routes(app: Flask, core: ServingCore) -> None:
    page = _read_resource("index.html")
    openapi = json.loads(_read_resource("openapi.json"))

    @app.errorhandler(_UnsupportedMediaType)
    def unsupported_type(err: _UnsupportedMediaType) -> Response:
        received = err.mimetype or "none"
        return _error_response(
            415, "unsupported_media_type",
            f"Unsupported content type {received!r}. Send multipart/form-data with a 'file' "
            "field, application/json with an 'image' field, or the raw image (image/png, "
            "image/jpeg, ...).",
            supported=_SUPPORTED_TYPES,
        )

    @app.get("/")
    def index() -> Response:
        return Response(page, mimetype="text/html")

    @app.get("/openapi.json")
    def openapi_document() -> Response:
        return jsonify(openapi)

    @app.get("/health")
    def health() -> Response:
        summary = core.health()
        response = jsonify(summary)
        response.status_code = 200 if summary["status"] in ("ok", "degraded") else 503
        return response

    @app.get("/servables")
    def servables() -> Response:
        return jsonify({"servables": core.describe()})

    @app.get("/servables/<name>")
    def servable(name: str) -> Response:
        return jsonify(core.get(name).describe())

    @app.post("/servables/<name>/predict")
    def predict(name: str) -> Response:
        core.get(name)  # an unknown name is a 404 before the body is looked at
        data, strategy = _read_image()
        return jsonify(core.run(name, data, strategy))
