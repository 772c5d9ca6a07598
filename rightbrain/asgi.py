"""The ASGI entry point: the JSON API on its lean handler, everything else
(dashboard, share pages, admin, OAuth, API docs) on Django's full stack."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rightbrain.settings")

django_application = get_asgi_application()  # sets Django up first

from rightbrain.api_handler import ApiASGIHandler, is_api_request  # noqa: E402

api_application = ApiASGIHandler()


async def application(scope, receive, send):  # noqa: ANN001
    if is_api_request(scope):
        await api_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
