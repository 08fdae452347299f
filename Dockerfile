# yibao 医保 — the container image (docs/deploy.md).
# Build where a PyPI mirror is reachable; the image itself needs no network at run time (every
# asset is served locally: the insurance private network is offline).

# --- build stage: wheels and the virtual environment ----------------------------------------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/yibao \
 && /opt/yibao/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/yibao/bin/pip install --no-cache-dir . \
 && (/opt/yibao/bin/pip install --no-cache-dir mysqlclient || echo "mysqlclient not built: PyMySQL is used")

# --- run stage: the interpreter, the venv and the client tools backups use -------------------
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 mariadb-client tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 yibao \
 && useradd --system --uid 10001 --gid yibao --home-dir /var/lib/yibao --shell /usr/sbin/nologin yibao \
 && install -d -o yibao -g yibao -m 0700 /var/lib/yibao /var/backups/yibao
COPY --from=build /opt/yibao /opt/yibao
COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Settings come from the environment (YIBAO_*; docs: README "Settings").
ENV PATH=/opt/yibao/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    YIBAO_DATA_DIR=/var/lib/yibao \
    YIBAO_HOST=0.0.0.0 \
    YIBAO_PORT=8000
USER yibao:yibao
WORKDIR /var/lib/yibao
VOLUME ["/var/lib/yibao"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request; u='http://127.0.0.1:%s/healthz' % os.environ.get('YIBAO_PORT','8000'); sys.exit(0 if urllib.request.urlopen(u, timeout=2).status == 200 else 1)"]
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["serve"]
