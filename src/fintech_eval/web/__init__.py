"""The web platform and its REST API (FastAPI): accounts, sessions, tokens and roles over the same application
layer as the CLI (:mod:`fintech_eval.app`).

* :mod:`.app`: ``create_app(settings)``, the application factory (``fintech-eval serve`` runs it on uvicorn);
* :mod:`.settings`: what is configurable (environment ``FINTECH_EVAL_WEB_*``);
* :mod:`.auth`, :mod:`.sessions`, :mod:`.csrf`: who is asking (session cookie or bearer token) and the CSRF rule;
* :mod:`.policy`: what each role may do, route by route, and which entities it sees (one place);
* :mod:`.problems`: every error as ``application/problem+json`` with the CLI's rule, field and message;
* :mod:`.routes`: one module per resource under ``/api/v1``, and the server-rendered pages.
"""
