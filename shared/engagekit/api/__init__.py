"""The HTTP edge shared by every API function: resolver, authentication, error mapping.

Every API function builds its resolver with :func:`make_resolver` and protects each route with
``middlewares=[require("users.track")]``. Domain exceptions become Braze-style bodies here and only
here (braze-api.md §0): ``{"message": <fatal message>, "errors": [...]}`` with 400, 401
(``Unauthorized``), 403 (``Access Denied``), 404, 409, 429 (``Rate Limited``); anything unexpected is
logged and answered ``500 {"message": "Internal Server Error"}``.
"""

from engagekit.api.app import (
    auth_context,
    json_body,
    make_resolver,
    require,
)

__all__ = ["auth_context", "json_body", "make_resolver", "require"]
