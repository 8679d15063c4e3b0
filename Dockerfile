# WeChat Cloud Run ready: listens on $PORT (80 by default there), runs as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=80 BFF_HOST=0.0.0.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bff ./bff
COPY schema ./schema
COPY resolvers ./resolvers
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 bff && mkdir -p /app/var && chown bff /app/var
USER bff
EXPOSE 80
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"80\")}/api/health/check', timeout=2)"
CMD ["sh", "-c", "bff migrate && bff serve"]
