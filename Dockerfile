# One image for the API and the workers (the command differs).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY standards ./standards
COPY exchange ./exchange
COPY workers ./workers
COPY mmx ./mmx
COPY openapi ./openapi
RUN pip install --no-cache-dir . && useradd --create-home --uid 1000 mmx \
    && mkdir -p /data && chown mmx /data
USER mmx
ENV MMX_DATA_DIR=/data
EXPOSE 8000
CMD ["mmx", "serve", "--host", "0.0.0.0", "--no-with-worker"]
