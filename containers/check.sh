#!/usr/bin/env bash
# Proves the Dockerfile's image works on a machine without a registry or a
# Docker daemon: builds a Debian base image from Debian's own packages
# (debootstrap), builds the app's image on it with podman, starts the
# Procfile's web command in it and asks /api/health inside the container and
# through the published port; then runs the compose layout without registry
# images (web and worker containers on one data volume, Debian's redis-server
# on loopback, an account and an API key) and sends one export through
# POST /api/runs, which the worker container finishes.
#
# CI runs it (.ci/run, after the tests' services start, as root). By hand,
# after changing the Dockerfile, requirements.txt or the Procfile:
#
#   sudo containers/check.sh            # as root: debootstrap and podman need it
#
# Needs Debian's podman, runc, debootstrap and curl (installed with apt-get when
# missing) and network access to a Debian mirror and to the package index that
# requirements.txt names (PyPI); no container registry. Settings (environment):
#   DEBIAN_MIRROR  mirror for debootstrap (default: the first deb.debian.org-like
#                  URI of /etc/apt/sources.list*, else http://deb.debian.org/debian)
#   CHECK_DIR      work folder; the base root filesystem is kept there and reused
#                  (default /var/tmp/segmentation-container-check)
#   CHECK_PORT     host port published for the check (default 18050)
#   REBUILD_BASE=1 rebuild the base even if the folder already holds it
# What podman needed on the machine this was written on (a 2-core Debian 12
# VM, cgroups in hybrid mode):
# - raised ulimits to start containers (--ulimit below; or default_ulimits in
#   containers.conf);
# - the runc runtime: Debian's default, crun, refuses hybrid cgroups ("cgroups
#   in hybrid mode not supported"); the script then installs and uses runc;
# - the machine's own CAs (/usr/local/share/ca-certificates, e.g. a proxy that
#   inspects TLS) trusted inside the base, so pip reaches PyPI: the script adds
#   them to the base it builds (never to the Dockerfile's image for users).
# Without a running systemd, podman logs "unable to get systemd connection to
# add healthchecks" for each container: harmless; the HEALTHCHECK then runs
# only when asked (podman healthcheck run), as below.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_DIR=${CHECK_DIR:-/var/tmp/segmentation-container-check}
CHECK_PORT=${CHECK_PORT:-18050}
BASE_IMAGE=localhost/debian-python
APP_IMAGE=localhost/segmentation-studio:check
CONTAINER=segmentation-studio-check
ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

step_start=0
step() { step_start=$(date +%s); echo "== $*"; }
took() { echo "   took $(($(date +%s) - step_start)) s"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = "0" ] || fail "run as root (debootstrap makes device files; podman import/build as root)"

missing=()
for tool in podman runc debootstrap curl iptables; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # iptables: podman's networks publish ports with it (only suggested by podman)
  step "installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  took
fi
podman --version

if [ -z "${DEBIAN_MIRROR:-}" ]; then
  DEBIAN_MIRROR=$(grep -rhoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]*/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^[:space:]]*/debian/?' | head -1 || true)
  DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi

rootfs="$CHECK_DIR/rootfs"
mkdir -p "$CHECK_DIR"
if [ "${REBUILD_BASE:-0}" = "1" ] || [ ! -x "$rootfs/usr/bin/python3" ]; then
  step "debootstrap bookworm (minbase + python3, python3-venv, python3-pip) from $DEBIAN_MIRROR"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" "$DEBIAN_MIRROR" >"$CHECK_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$CHECK_DIR/debootstrap.log"; fail "debootstrap (log: $CHECK_DIR/debootstrap.log)"; }
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  took
  podman image rm -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

if ! podman image exists "$BASE_IMAGE"; then
  step "importing the root filesystem as $BASE_IMAGE"
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    echo "   trusting this machine's CAs in the base: $(cd /usr/local/share/ca-certificates && echo *.crt)"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    # pip's own bundle (certifi) does not hold them: point pip at the system's.
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
  fi
  tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
  took
fi

# crun (Debian's default runtime) refuses hybrid cgroups; runc runs there.
RUNTIME=()
if ! podman run --rm --pull=never "${ULIMITS[@]}" "$BASE_IMAGE" true 2>"$CHECK_DIR/run.err"; then
  echo "   podman's default runtime failed: $(tail -1 "$CHECK_DIR/run.err")"
  if ! command -v runc >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null
  fi
  RUNTIME=(--runtime runc)
  echo "   using runc"
fi
podman "${RUNTIME[@]}" run --rm --pull=never "${ULIMITS[@]}" "$BASE_IMAGE" python3 --version

step "building the Dockerfile on $BASE_IMAGE"
# --format docker keeps the HEALTHCHECK (the OCI format has no such field).
podman build "${RUNTIME[@]}" --pull=never --format docker --build-arg BASE="$BASE_IMAGE" \
  "${ULIMITS[@]}" -t "$APP_IMAGE" . >"$CHECK_DIR/build.log" 2>&1 \
  || { tail -30 "$CHECK_DIR/build.log"; fail "podman build (log: $CHECK_DIR/build.log)"; }
took
podman image ls "$APP_IMAGE" --format '   image {{.Repository}}:{{.Tag}} {{.Size}}'

cleanup() { podman "${RUNTIME[@]}" rm -f -v "$CONTAINER" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

step "the server refuses 0.0.0.0 without accounts or SEGMENTATION_ALLOW_ANONYMOUS"
if out=$(timeout 120 podman "${RUNTIME[@]}" run --rm --pull=never "${ULIMITS[@]}" "$APP_IMAGE" 2>&1); then
  fail "the server started with no account on 0.0.0.0"
fi
grep -q "SEGMENTATION_ALLOW_ANONYMOUS" <<<"$out" \
  || { echo "$out" | tail -20; fail "the refusal does not name SEGMENTATION_ALLOW_ANONYMOUS"; }
echo "   refused, naming SEGMENTATION_ALLOW_ANONYMOUS"
took

step "starting the Procfile's web command (anonymous use allowed), port $CHECK_PORT"
podman "${RUNTIME[@]}" run -d --pull=never --name "$CONTAINER" "${ULIMITS[@]}" \
  -e SEGMENTATION_ALLOW_ANONYMOUS=1 -p "127.0.0.1:$CHECK_PORT:8050" "$APP_IMAGE" >/dev/null
health_inside() {
  podman "${RUNTIME[@]}" exec "$CONTAINER" python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8050/api/health', timeout=4).read().decode())"
}
for _ in $(seq 1 120); do
  if body=$(health_inside 2>/dev/null); then break; fi
  [ "$(podman "${RUNTIME[@]}" inspect -f '{{.State.Running}}' "$CONTAINER")" = "true" ] \
    || { podman "${RUNTIME[@]}" logs "$CONTAINER" | tail -30; fail "the container stopped"; }
  sleep 1
done
[ -n "${body:-}" ] || { podman "${RUNTIME[@]}" logs "$CONTAINER" | tail -30; fail "no /api/health answer inside the container in 120 s"; }
took
echo "   inside:  $body"
echo "   user:    $(podman "${RUNTIME[@]}" exec "$CONTAINER" id -un) (uid $(podman "${RUNTIME[@]}" exec "$CONTAINER" id -u))"
outside=$(curl -fsS --max-time 10 "http://127.0.0.1:$CHECK_PORT/api/health") \
  || fail "no /api/health answer through the published port 127.0.0.1:$CHECK_PORT"
echo "   outside: $outside"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://127.0.0.1:$CHECK_PORT/")
[ "$status" = "200" ] || fail "GET / answered $status"
echo "   GET / -> $status"
podman "${RUNTIME[@]}" healthcheck run "$CONTAINER" && echo "   podman healthcheck: healthy"

# The compose layout without registry images: the Procfile's web and worker
# in two containers of the image on one data volume, Redis from Debian's
# redis-server on loopback (host network), an account and an API key made with
# the image's command line, one export run through POST /api/runs.
if ! command -v redis-server >/dev/null; then
  step "installing Debian's redis-server for the web + worker check"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  took
fi
REDIS_PORT=${CHECK_REDIS_PORT:-16379}
WEB_PORT=$((CHECK_PORT + 1))
VOLUME=segmentation-check-data
redis_url="redis://127.0.0.1:$REDIS_PORT/0"
cleanup() {
  podman "${RUNTIME[@]}" rm -f -v "$CONTAINER" "$CONTAINER-web" "$CONTAINER-worker" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  if [ -f "$CHECK_DIR/redis.pid" ]; then kill "$(cat "$CHECK_DIR/redis.pid")" 2>/dev/null || true; rm -f "$CHECK_DIR/redis.pid"; fi
}
cleanup

step "web + worker on one data volume, Redis on 127.0.0.1:$REDIS_PORT, an account and a key"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$CHECK_DIR/redis.pid" --logfile "$CHECK_DIR/redis.log"
podman volume create "$VOLUME" >/dev/null
app_run() { podman "${RUNTIME[@]}" run --rm --pull=never "${ULIMITS[@]}" -v "$VOLUME:/data" "$@"; }
printf 'check-password-%s\n' "$RANDOM$RANDOM" | app_run -i "$APP_IMAGE" python3 -m app users add checker
key=$(app_run "$APP_IMAGE" python3 -m app keys create checker | tail -1)
[ -n "$key" ] || fail "python -m app keys create printed no key"
podman "${RUNTIME[@]}" run -d --pull=never --name "$CONTAINER-worker" "${ULIMITS[@]}" \
  --network host -v "$VOLUME:/data" -e REDIS_URL="$redis_url" "$APP_IMAGE" \
  celery -A app.worker worker --loglevel INFO --concurrency 2 >/dev/null
podman "${RUNTIME[@]}" run -d --pull=never --name "$CONTAINER-web" "${ULIMITS[@]}" \
  --network host -v "$VOLUME:/data" -e REDIS_URL="$redis_url" -e PORT="$WEB_PORT" \
  "$APP_IMAGE" >/dev/null
for _ in $(seq 1 120); do
  curl -fsS --max-time 5 "http://127.0.0.1:$WEB_PORT/api/health" >/dev/null 2>&1 && break
  [ "$(podman "${RUNTIME[@]}" inspect -f '{{.State.Running}}' "$CONTAINER-web")" = "true" ] \
    || { podman "${RUNTIME[@]}" logs "$CONTAINER-web" | tail -30; fail "the web container stopped"; }
  sleep 1
done
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$WEB_PORT/api/runs/none")
[ "$status" = "401" ] || fail "GET /api/runs/none without a key answered $status, not 401"
echo "   without a key: 401"
took

step "an export through POST /api/runs, finished by the worker"
export_file=tests/data/exports/uci_returns.csv
started=$(curl -fsS --max-time 60 -H "Authorization: Bearer $key" \
  -F "file=@$export_file" -F k=3 "http://127.0.0.1:$WEB_PORT/api/runs") \
  || fail "POST /api/runs with $export_file"
echo "   posted:   $started"
status_url=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["status_url"])' "$started")
answer=
for _ in $(seq 1 180); do
  answer=$(curl -fsS --max-time 10 -H "Authorization: Bearer $key" "http://127.0.0.1:$WEB_PORT$status_url")
  run_status=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["status"])' "$answer")
  case "$run_status" in done | failed) break ;; esac
  sleep 1
done
echo "   finished: $(echo "$answer" | cut -c1-300)"
[ "${run_status:-}" = "done" ] || { podman "${RUNTIME[@]}" logs "$CONTAINER-worker" | tail -30; fail "the run ended '$run_status'"; }
podman "${RUNTIME[@]}" logs "$CONTAINER-worker" 2>&1 | grep -E "Task .* succeeded" | tail -1 | cut -c1-200 \
  | sed 's/^/   worker:   /' | grep . || fail "the worker's log shows no finished task"
took

echo "OK: image $APP_IMAGE serves /api/health; web and worker containers finish an API run"
