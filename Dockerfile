# Production image. There is no Docker engine on the development machines, so this file is kept
# simple and is not built in CI; `make run` and `make test` are the tested paths.
FROM python:3.11-slim
WORKDIR /srv/meldkamer
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY alembic ./alembic
COPY config ./config
COPY dashboard ./dashboard
RUN pip install --no-cache-dir . && useradd --system --home /srv/meldkamer meldkamer \
    && mkdir -p /srv/meldkamer/var && chown meldkamer /srv/meldkamer/var
USER meldkamer
EXPOSE 8000
CMD ["sh", "-c", "meldkamer migrate && meldkamer serve --host 0.0.0.0 --port 8000"]
