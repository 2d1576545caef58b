"""Development server: ``python -m app`` serves http://127.0.0.1:8050.

The port is the environment variable ``PORT`` when set. The built-in sample is
loaded and shown at first page load, without any click.
"""

from __future__ import annotations

import os

from app import create_app


def main() -> None:
    """Start Dash's development server on 127.0.0.1:$PORT (default 8050)."""
    port = int(os.environ.get("PORT", "8050"))
    create_app().run(host="127.0.0.1", port=port, debug=False)


if __name__ == "__main__":
    main()
