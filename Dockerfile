# The app's image: the Procfile's web command (gunicorn) by default; the same
# image runs the Procfile's worker (see compose.yaml). README, "Containers".
#
#   docker build -t segmentation-studio .
#   docker run -p 8050:8050 -v segmentation-data:/data \
#       -e SEGMENTATION_ALLOW_ANONYMOUS=1 segmentation-studio
#
# BASE is any Debian-like image with python3 (3.11+) and its venv module;
# containers/check.sh builds it from a debootstrap root filesystem where no
# registry is reachable. The virtual environment keeps the install independent
# of the base's own pip layout.
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# Requirements first: a change to the code does not reinstall them. Runtime
# only: the test, lint and benchmark tools are in requirements-dev.txt, which
# the image neither holds nor installs (.dockerignore).
COPY requirements.txt /app/requirements.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install -r /app/requirements.txt

WORKDIR /app
COPY . /app

# The server runs as its own user; the code stays root's (read-only to it) and
# only the data folder is its own. The server writes its files 0600 (umask 077,
# app/gunicorn_conf.py), so web and worker must run as this same user.
RUN useradd --system --uid 10001 --user-group --home-dir /app \
        --shell /usr/sbin/nologin segmentation \
    && mkdir -p /data \
    && chown segmentation:segmentation /data
USER segmentation

# Uploads, the server-side store, background jobs and (without DATABASE_URL)
# the SQLite run store: keep them across containers, share them with workers.
ENV PORT=8050 \
    SEGMENTATION_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8050

# The server answers /api/health in its event loop (app/front.py); the base may
# have no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('PORT', '8050'), timeout=4)"]

# The Procfile's web line. A server bound to 0.0.0.0 with no account refuses
# to start (app/auth.py): add one with `python -m app users add NAME` on the
# data volume, or set SEGMENTATION_ALLOW_ANONYMOUS=1 (each browser then gets a
# private workspace).
CMD ["sh", "-c", "exec gunicorn -c app/gunicorn_conf.py app.asgi:application --bind 0.0.0.0:$PORT"]
