# One image for web (gunicorn), worker and beat (celery); docker-compose.yml runs it three ways.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The lock first: the dependency layer is rebuilt only when requirements.txt changes. Every package
# of the tree is pinned there and checked against its hash, so a rebuild installs the same files.
# psycopg[binary] ships its own libpq, so no compiler or libpq-dev is needed.
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt


# Build-time assets: collected static files and compiled translations (gettext stays out of the
# final image). The SECRET_KEY here only lets settings load with DEBUG off; it is never used at runtime.
FROM base AS assets
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN mkdir -p locale \
    && SECRET_KEY=build-time-dummy-key-not-used-at-runtime DEBUG=0 python manage.py collectstatic --noinput \
    && if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
         SECRET_KEY=build-time-dummy-key-not-used-at-runtime DEBUG=0 python manage.py compilemessages; \
       fi


FROM base
RUN useradd --system --uid 10001 --gid 0 --no-create-home --home-dir /app portal
COPY . .
COPY --from=assets /app/staticfiles /app/staticfiles
COPY --from=assets /app/locale /app/locale
USER portal
EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY for its number of workers (default 1 without it).
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
