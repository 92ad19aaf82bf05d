from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # The "locks" cache is a database table on the embedded default; with
    # Redis this creates nothing.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
