"""Alembic environment of fintech-eval's store. Run through :func:`fintech_eval.store.db.init_db`
(which hands over a connection in ``config.attributes["connection"]``), or with a URL in the
``sqlalchemy.url`` main option."""

from __future__ import annotations

from alembic import context

from fintech_eval.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs):
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from fintech_eval.store.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
