"""``python -m app``: the production server on http://127.0.0.1:8050.

The same gunicorn server as the Procfile (the settings of
:mod:`app.gunicorn_conf`, the application of :mod:`app.asgi`), bound to the
loopback address: nobody else on the network reaches it. The port is the
environment variable ``PORT`` when set. The built-in sample is loaded and shown
at first page load, without any click.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

CONFIG = Path(__file__).with_name("gunicorn_conf.py")
HOST = "127.0.0.1"
DEFAULT_PORT = 8050


class Server(BaseApplication):
    """gunicorn started from Python with :data:`CONFIG`'s settings.

    Parameters
    ----------
    bind : str
        ``HOST:PORT`` to listen on.
    """

    def __init__(self, bind: str):
        self.bind = bind
        super().__init__()

    def load_config(self) -> None:
        """Apply the settings of :data:`CONFIG`, then the address."""
        settings: dict = {"__file__": str(CONFIG)}
        exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), settings)
        for name, value in settings.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)
        self.cfg.set("bind", [self.bind])

    def load(self):
        """Return the ASGI application (imported in the worker process)."""
        from app.asgi import application

        return application


def main(argv: list[str] | None = None) -> None:
    """Serve the app on 127.0.0.1:$PORT (default 8050) until interrupted.

    With a command, manage accounts instead (:mod:`app.accounts`):
    ``users add|list|remove``, ``keys create|list|revoke``.

    Raises
    ------
    SystemExit
        ``PORT`` is not a port number (1..65535), or gunicorn cannot start.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv:  # a command (or --help): accounts, not the server
        from app.accounts import main as accounts

        raise SystemExit(accounts(argv))
    text = os.environ.get("PORT", str(DEFAULT_PORT))
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SystemExit(f"error: PORT={text!r} is not a port number (1..65535)")
    os.umask(0o077)  # as gunicorn_conf.on_starting: the data folder's files private
    Server(f"{HOST}:{int(text)}").run()


if __name__ == "__main__":
    main()
