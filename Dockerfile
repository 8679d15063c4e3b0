# WeChat Cloud Run ready: listens on $PORT (80 by default there), runs as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=80 BFF_HOST=0.0.0.0
WORKDIR /app
# tini is PID 1: it hands SIGTERM (docker stop, Cloud Run scale-in) to the BFF, which then drains
# within BFF_SHUTDOWN_GRACE_S, and reaps any orphan. A shell as PID 1 would ignore SIGTERM.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# The locked, hash-checked dependencies first (a layer that changes only with the lock), then the project.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bff ./bff
COPY schema ./schema
COPY resolvers ./resolvers
RUN pip install --no-cache-dir --no-deps . && useradd --create-home --uid 10001 bff && mkdir -p /app/var && chown bff /app/var
USER bff
EXPOSE 80
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"80\")}/api/health/check', timeout=2)"
# Exec form, one process: migrations (under a database lock: replicas may start together), then
# the server, which receives the signals (tests/test_container.py runs this very command line).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["bff", "serve", "--migrate"]
