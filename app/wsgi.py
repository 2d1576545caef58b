"""WSGI entry point: the Dash app and its Flask ``server``.

The Procfile serves :mod:`app.asgi` (this ``server`` behind the buffering front);
``gunicorn app.wsgi:server`` or any WSGI server still works, without the front's
protection from slow clients.
"""

from __future__ import annotations

from app import create_app

app = create_app()
server = app.server
