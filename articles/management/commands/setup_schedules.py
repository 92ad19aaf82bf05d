from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "Poll due sources",
        "func": "articles.tasks.poll_sources_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        "name": "Retry stalled extractions",
        "func": "articles.tasks.retry_stalled_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        "name": "Store lead images",
        "func": "articles.tasks.store_lead_images_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        # Once a story changes, not while relating each article (bench/NOTES-related.md).
        "name": "What each source adds to changed stories",
        "func": "articles.tasks.refresh_story_additions_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        # WebSub leases near their end, and hubs that did not verify.
        "name": "Renew WebSub subscriptions",
        "func": "articles.tasks.renew_subscriptions_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
    {
        "name": "Prune the term index",
        "func": "articles.tasks.prune_term_index_task",
        "schedule_type": Schedule.HOURLY,
    },
    {
        # Does nothing unless RETENTION_DAYS is set.
        "name": "Remove expired articles",
        "func": "articles.tasks.remove_expired_articles_task",
        "schedule_type": Schedule.HOURLY,
    },
]


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (idempotent)."

    def handle(self, *args, **options):
        for spec in SCHEDULES:
            spec = dict(spec)
            name = spec.pop("name")
            schedule, created = Schedule.objects.update_or_create(
                name=name, defaults={**spec, "repeats": -1},
                create_defaults={**spec, "repeats": -1, "next_run": timezone.now()},
            )
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule {name!r}")
