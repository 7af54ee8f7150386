# Pacing Console: one image, four roles (deploy/entrypoint.sh): web, node, gpe-simulator, manage.
# docker-compose.yml runs the whole product with it; docs/deployment.md explains every setting.
# Two stages: the dependencies are installed into a virtual environment in the first, which is copied alone
# into the second (no pip cache, no build leftovers); the application runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# the runtime dependencies of pyproject.toml only (the application itself runs from /app)
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -r requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Pacing Console" \
      org.opencontainers.image.description="An open replacement for the Genesys Agent Pacing Service and its GAX screens"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PACING_APP_DIR=/app \
    PACING_VAR_DIR=/var/lib/pacing \
    PACING_STATIC_ROOT=/app/static \
    PACING_PRODUCTION=1
RUN groupadd --system --gid 10001 pacing \
    && useradd --system --uid 10001 --gid pacing --home-dir /var/lib/pacing --shell /usr/sbin/nologin pacing \
    && mkdir -p /var/lib/pacing \
    && chown pacing:pacing /var/lib/pacing
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# static files collected into the image (WhiteNoise serves them; no separate web server). The keys are
# throw-away: nothing is encrypted or signed at build time.
RUN PACING_VAR_DIR=/tmp/build-var \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    PACING_SECRETS_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY= \
    python manage.py collectstatic --no-input -v 0 \
    && rm -rf /tmp/build-var \
    && chmod 0755 /app/deploy/entrypoint.sh
USER 10001:10001
VOLUME ["/var/lib/pacing"]
EXPOSE 8000 8089
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if os.environ.get('PACING_HEALTH_URL') == 'none' else urllib.request.urlopen(os.environ.get('PACING_HEALTH_URL', 'http://127.0.0.1:8000/healthz'), timeout=4).status != 200)"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
