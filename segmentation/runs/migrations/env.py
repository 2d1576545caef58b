"""Alembic environment of the run tables: run on the connection the store gives.

:func:`segmentation.runs._database.upgrade` puts an open connection (inside its
write transaction) in ``config.attributes["connection"]``; there is no
``alembic.ini`` and no URL here.
"""

from alembic import context

from segmentation.runs.tables import VERSION_TABLE, Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
