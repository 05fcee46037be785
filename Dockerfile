# Aniworld image: one image for every role (web, worker, beat); the command picks the role.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ANIWORLD_DATA_DIR=/data \
    ANIWORLD_LIBRARY_DIR=/library \
    ANIWORLD_STATIC_ROOT=/app/staticfiles

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 aniworld

WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

COPY --chown=aniworld:aniworld . .
RUN ANIWORLD_DATA_DIR=/tmp/build-data SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
 && rm -rf /tmp/build-data \
 && mkdir -p /data /library && chown aniworld:aniworld /data /library

USER aniworld
EXPOSE 8000
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["web"]
