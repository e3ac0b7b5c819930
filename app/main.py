"""ASGI entry point for uvicorn: `uvicorn app.main:app`."""

from app.core.app import create_app

app = create_app()
