"""ASGI entry point for gunicorn's ``asgi`` worker (see the Procfile).

``gunicorn -c app/gunicorn_conf.py app.asgi:application``: the Dash app's Flask
server (:mod:`app.wsgi`) behind :class:`app.front.BufferedFront`.
"""

from __future__ import annotations

from app.front import BufferedFront
from app.wsgi import server

application = BufferedFront(server)
