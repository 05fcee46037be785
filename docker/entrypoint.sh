#!/bin/sh
# Start one Aniworld role. The web role applies database migrations first.
set -eu
role="${1:-web}"
case "$role" in
  web)
    python manage.py migrate --noinput
    exec python -m aniworld_site.stack --role web --host 0.0.0.0 --port "${ANIWORLD_PORT:-8000}"
    ;;
  worker) exec python -m aniworld_site.stack --role worker ;;
  beat)   exec python -m aniworld_site.stack --role beat ;;
  *)      exec "$@" ;;
esac
