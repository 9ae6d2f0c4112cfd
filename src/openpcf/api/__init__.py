"""The REST API (FastAPI): thin routers over the services; `create_app` builds it."""
