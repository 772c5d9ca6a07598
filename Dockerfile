# syntax=docker/dockerfile:1
#
# Rightbrain's production image: the ASGI web tier by default; the same image runs
# the Celery worker and beat with another command (see compose.yaml).
#
#   docker build -t rightbrain .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=postgres://... -e REDIS_URL=redis://... \
#       -e RB_S3_BUCKET=... -e RB_S3_ENDPOINT_URL=... -p 8000:8000 rightbrain

ARG PYTHON_IMAGE=python:3.12-slim

# --- builder: a virtualenv holding Rightbrain's dependencies ---------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
# Only what pip reads, so this slow layer is rebuilt only when the dependencies
# change. With no package folders present, `pip install .` installs every
# dependency pyproject.toml declares plus an empty `rightbrain` distribution; the
# code itself is copied to /app in the final stage and imported from there (the
# settings find templates/ and static/ relative to the code, so it must not live in
# site-packages).
COPY pyproject.toml README.md ./
RUN pip install .

# --- final image -------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

# Without a DATABASE_URL the image uses SQLite in a folder the app user may write
# to; compose.yaml and real deployments point it at PostgreSQL.
ENV DEBUG=false \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DATABASE_URL=sqlite:////app/data/db.sqlite3

# DejaVu fonts: PDF output embeds them so text beyond Latin-1 (Greek, Cyrillic,
# typographic quotes, ...) survives; without them it is replaced by "?".
RUN apt-get update \
 && apt-get install --yes --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 rightbrain \
 && useradd --system --uid 10001 --gid rightbrain --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin rightbrain

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root: the app user can read it but not change it.
COPY . .

# /app/media holds run files only when no RB_S3_BUCKET is set, which suits a single
# container; as soon as a worker or a second replica runs, set the bucket (see
# compose.yaml) so every process sees the same files.
#
# Hashed, compressed static files for whitenoise. The manifest storage is used only
# with DEBUG off, and settings refuse to load with DEBUG off and no SECRET_KEY, so
# this one command gets a throwaway key; it is not kept in the image's environment.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret \
        python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/data /app/media \
 && chown rightbrain:rightbrain /app/data /app/media

USER rightbrain
EXPOSE 8000

# GET /healthz (it also checks the database) with only the standard library: slim
# images have no curl. Two things could turn a healthy app into a failed check:
# - With DEBUG off, SECURE_SSL_REDIRECT defaults on and would answer plain-HTTP
#   /healthz with a redirect to https. The check therefore sends
#   `X-Forwarded-Proto: https`. uvicorn runs with --proxy-headers, which trusts
#   that header only from FORWARDED_ALLOW_IPS (default 127.0.0.1), so this local
#   request counts as HTTPS while the same header from any other client is
#   ignored. (If SECURE_PROXY_SSL_HEADER=true is set, Django trusts it directly.)
#   urllib follows redirects, so a redirect to https would fail the check.
# - Django answers 400 to a Host not in ALLOWED_HOSTS, so the check sends the
#   first concrete entry of ALLOWED_HOSTS (default: localhost).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; \
hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', '').split(',')]; \
host = next((h for h in hosts if h and h != '*'), 'localhost'); \
url = 'http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz'; \
req = urllib.request.Request(url, headers={'Host': host, 'X-Forwarded-Proto': 'https'}); \
urllib.request.urlopen(req, timeout=4)"

# The same command line as `make serve`. `exec` makes uvicorn PID 1, so it gets
# docker's SIGTERM and shuts down gracefully.
CMD exec uvicorn rightbrain.asgi:application --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2} --proxy-headers
