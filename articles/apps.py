from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"

    def ready(self):
        from .fts5 import restore_index_after_migrate
        from .menus import connect_signals

        post_migrate.connect(restore_index_after_migrate, sender=self)
        connect_signals()
