"""Resolver factory, the permission middleware and the one error-mapping table."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from pydantic import ValidationError as PydanticValidationError

from engagekit.api.ratelimit import limiter_from_settings
from engagekit.auth import ApiKey, KeyStore
from engagekit.config import FunctionSettings, load_settings
from engagekit.errors import AuthError, ConfigError, EngagekitError, RateLimitedError, ValidationError
from engagekit.observability import logger

Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]


class ApiSettings(FunctionSettings):
    api_keys_table: str


class RateLimiter(Protocol):
    """Counts a request against a key's limit for ``permission``'s endpoint group.

    Returns ``(limit, remaining, reset_epoch_s)``; raises :class:`RateLimitedError` when over.
    """

    def hit(self, key: ApiKey, permission: str) -> tuple[int, int, int]: ...


_rate_limiter: list[RateLimiter] = []


def use_rate_limiter(limiter: RateLimiter | None) -> None:
    """Install the process's rate limiter. ``None`` restores the default: the limiter of
    :mod:`engagekit.api.ratelimit` when the function's environment has ``RATE_LIMITS_TABLE``."""
    _rate_limiter.clear()
    if limiter is not None:
        _rate_limiter.append(limiter)


def _active_limiter() -> RateLimiter | None:
    return _rate_limiter[0] if _rate_limiter else limiter_from_settings()


def _count_request(app: APIGatewayHttpResolver, key: ApiKey, permission: str) -> None:
    """Count the request against the key's limit and keep its ``X-RateLimit-*`` headers in the
    request context, so success and error responses alike carry them (braze-api.md §0)."""
    limiter = _active_limiter()
    if limiter is None:
        return
    try:
        limit, remaining, reset = limiter.hit(key, permission)
    except RateLimitedError as exc:
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(exc.reset)}
        over_limit = getattr(exc, "limit", None)
        if isinstance(over_limit, int):
            headers["X-RateLimit-Limit"] = str(over_limit)
        app.append_context(rate_limit_headers=headers)
        raise
    app.append_context(
        rate_limit_headers={
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
    )


def _rate_headers(app: APIGatewayHttpResolver) -> dict[str, str]:
    headers = app.context.get("rate_limit_headers")
    return dict(headers) if isinstance(headers, dict) else {}


@cache
def _key_store() -> KeyStore:
    return KeyStore(load_settings(ApiSettings).api_keys_table)


def error_response(
    status: int, message: str, errors: list[Any] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    """A Braze-style error body: ``{"message": ..., "errors": [...]}`` (errors only when given)."""
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers=headers)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_body(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The request body as a JSON object; raises :class:`ValidationError` (400) otherwise."""
    try:
        raw = app.current_event.decoded_body or ""
    except UnicodeDecodeError as exc:
        raise ValidationError("Request body is not valid UTF-8 (JSON must be UTF-8, RFC 8259 §8.1)") from exc
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"Request body is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except (ValueError, RecursionError) as exc:
        # NaN/Infinity, numbers past Python's digit limit, nesting past the recursion limit
        reason = str(exc)[:200] or "nested too deeply"
        if "digits" in reason:
            reason = "a number has more than 4300 digits"
        raise ValidationError(f"Request body is not valid JSON: {reason}") from exc
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object")
    return body


def _presented_secret(app: APIGatewayHttpResolver) -> str | None:
    header = app.current_event.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    legacy = (app.current_event.query_string_parameters or {}).get("api_key")
    if legacy:
        return legacy
    try:
        body = json.loads(app.current_event.decoded_body or "{}")
    except (ValueError, RecursionError):
        return None
    value = body.get("api_key") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def auth_context(app: APIGatewayHttpResolver) -> ApiKey:
    """The authenticated key of the current request (set by :func:`require`)."""
    key = app.context.get("api_key")
    if not isinstance(key, ApiKey):
        raise AuthError("Unauthorized")
    return key


def require(permission: str | None) -> Middleware:
    """Middleware: a valid key (401 otherwise) holding ``permission`` (403 otherwise).

    ``None`` asks only for a valid key. Keys come from ``Authorization: Bearer`` or, as Braze still
    accepts, a legacy ``api_key`` field in the query or the JSON body (braze-api.md §0).
    """

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        secret = _presented_secret(app)
        if not secret:
            raise AuthError("Unauthorized: send 'Authorization: Bearer <REST API key>'", 401)
        key = _key_store().lookup(secret)
        if key is None or key.revoked_at is not None:
            raise AuthError("Unauthorized: unknown or revoked API key", 401)
        _count_request(app, key, permission or "")
        if permission is not None and not key.allows(permission):
            raise AuthError(f"Access Denied: this key lacks the '{permission}' permission", 403)
        app.append_context(api_key=key)
        response = next_middleware(app)
        response.headers.update(_rate_headers(app))
        return response

    return middleware


def make_resolver() -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with the error mapping installed."""
    app = APIGatewayHttpResolver(strip_prefixes=None)

    @app.exception_handler(AuthError)
    def _auth(exc: AuthError) -> Response[str]:
        return error_response(exc.status_code, str(exc), headers=_rate_headers(app))

    @app.exception_handler(RateLimitedError)
    def _rate(exc: RateLimitedError) -> Response[str]:
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(exc.reset), **_rate_headers(app)}
        return error_response(429, "Rate Limited", headers=headers)

    @app.exception_handler(ValidationError)
    def _invalid(exc: ValidationError) -> Response[str]:
        return error_response(400, exc.message, exc.errors, headers=_rate_headers(app))

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        return error_response(400, "Request body is not valid UTF-8 (JSON must be UTF-8, RFC 8259 §8.1)")

    @app.exception_handler(PydanticValidationError)
    def _invalid_model(exc: PydanticValidationError) -> Response[str]:
        errors = [{"type": e["msg"], "field": ".".join(str(p) for p in e["loc"])} for e in exc.errors()]
        return error_response(
            400,
            "Bad Request: the request body does not match the schema",
            errors,
            headers=_rate_headers(app),
        )

    @app.exception_handler(ConfigError)
    def _misconfigured(exc: ConfigError) -> Response[str]:
        logger.exception("function misconfigured")
        return error_response(500, "Internal Server Error", headers=_rate_headers(app))

    @app.exception_handler(EngagekitError)
    def _domain(exc: EngagekitError) -> Response[str]:
        status = int(getattr(exc, "status_code", 400))
        return error_response(status, str(exc), headers=_rate_headers(app))

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return error_response(404, "Not Found")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "Internal Server Error", headers=_rate_headers(app))

    return app
