# One image for every service; docker-compose.yml picks the command.
# Build stage: the runtime packages into a venv and the static files, with pip's caches;
# the final stage copies only the results.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
WORKDIR /app
COPY . .
RUN SECRET_KEY=build-only VAR_DIR=/app/var /venv/bin/python manage.py collectstatic --noinput

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var PATH=/venv/bin:$PATH
# A fixed uid, so that volumes and Kubernetes' runAsNonRoot can name it.
RUN useradd --create-home --uid 10001 app
COPY --from=build /venv /venv
COPY --from=build /app /app
RUN mkdir -p /app/var && chown -R app /app/var
WORKDIR /app
USER app
EXPOSE 8000
# The web service's liveness (the workers and beat override or disable it in compose).
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", \
     "--websocket-max-message-size", "8192", \
     "--websocket-max-frame-size", "8192", "--ping-interval", "3", \
     "config.asgi:application"]
