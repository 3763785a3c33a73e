# One image for every Plexus service: the service class to run is the CMD.
#   docker build -t plexus .
#   docker run plexus services.contacts.entrypoints:ContactsService
# docker-compose.yml runs the whole suite from it.
#
# Reproducible: the base image is pinned by digest (python:3.11-slim; to move it, read
# the new digest with `docker buildx imagetools inspect python:3.11-slim`), and every
# Python package comes from requirements.lock with its hash (make lock).
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# Builder: wheels for Plexus and every dependency, the PostgreSQL driver compiled against
# Debian's libpq (not the binary wheel's bundled copy), so the final stage needs no
# compiler and no network.
FROM ${PYTHON_IMAGE} AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --no-binary psycopg2 --wheel-dir /wheels \
    -r requirements.lock
COPY pyproject.toml README.md ./
COPY plexus ./plexus
COPY services ./services
COPY ops ./ops
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLEXUS_CONFIG=/app/config.yaml \
    PLEXUS_DATA_DIR=/app/var \
    PLEXUS_LOG_FORMAT=json
# Silences eventlet's import-time deprecation notice, which would break one JSON object
# a line on stderr (see child_environment in ops/runner.py).
ENV EVENTLET_TESTS=1
# libpq: the shared library the compiled driver links to.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 plexus
COPY --from=builder /wheels /wheels
# --no-deps: the wheels are exactly the lock's (checked by hash in the builder).
RUN pip install --no-cache-dir --no-index --no-deps /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY config.yaml /app/config.yaml
RUN mkdir -p /app/var && chown plexus:plexus /app/var
USER plexus
# The gateway's HTTP port and the metrics ports (config.yaml METRICS_PORTS).
EXPOSE 8000 9100 9101
ENTRYPOINT ["nameko", "run", "--config", "/app/config.yaml"]
CMD ["services.gateway.entrypoints:GatewayService"]
