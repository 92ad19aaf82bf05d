"""SQL that one database kind runs and the others skip, as a migration operation.

The leading underscore keeps Django's migration loader from reading this
module as a migration.
"""

from django.db import migrations


def only_on(vendor, forward, backward):
    """RunPython executing `forward` (reversed: `backward`) on `vendor` only:
    SQL, or a list of statements run one at a time (as CREATE INDEX
    CONCURRENTLY must be, in a migration that is not atomic)."""

    def runner(sql):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor == vendor:
                for statement in [sql] if isinstance(sql, str) else sql:
                    schema_editor.execute(statement)

        return run

    return migrations.RunPython(runner(forward), runner(backward))
