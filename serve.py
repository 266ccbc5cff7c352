"""WSGI entry point: ``gunicorn serve:app`` serves the current build with settings from the environment."""

from docket.serve import create_app

app = create_app()
