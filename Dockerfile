# One image for every Plexus service: the service class to run is the CMD.
#   docker build -t plexus .
#   docker run plexus services.contacts.entrypoints:ContactsService
# docker-compose.yml runs the whole suite from it.

# Builder: wheels for Plexus and every dependency, so the final stage needs no compiler
# and no network.
FROM python:3.11-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY plexus ./plexus
COPY services ./services
COPY ops ./ops
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLEXUS_CONFIG=/app/config.yaml \
    PLEXUS_DATA_DIR=/app/var \
    PLEXUS_LOG_FORMAT=json
# Silences eventlet's import-time deprecation notice, which would break one JSON object
# a line on stderr (see child_environment in ops/runner.py).
ENV EVENTLET_TESTS=1
RUN useradd --create-home --uid 10001 plexus
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY config.yaml /app/config.yaml
RUN mkdir -p /app/var && chown plexus:plexus /app/var
USER plexus
# The gateway's HTTP port and the metrics ports (config.yaml METRICS_PORTS).
EXPOSE 8000 9100 9101
ENTRYPOINT ["nameko", "run", "--config", "/app/config.yaml"]
CMD ["services.gateway.entrypoints:GatewayService"]
