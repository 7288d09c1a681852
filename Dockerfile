# Kenniskring in a container: the wheel, a non-root user, data in a volume.
#   docker build -t kenniskring .
#   docker run -p 8000:8000 -v kenniskring-data:/data -e KENNISKRING_PUBLIC_URL=http://<address>:8000 kenniskring
# tests/install/test_installed_wheel.py runs this file's CMD with its ENV and HEALTHCHECK against the
# installed wheel, so what the container runs is what the tests run.

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 kenniskring \
    && mkdir /data && chown kenniskring:kenniskring /data
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
ENV HOST=0.0.0.0 PORT=8000 KENNISKRING_DATA=/data PYTHONUNBUFFERED=1
USER kenniskring
WORKDIR /home/kenniskring
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# exec form: SIGTERM from `docker stop` reaches the server, which ends within a few seconds.
CMD ["kenniskring", "serve"]
