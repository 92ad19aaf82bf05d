from django.conf import settings

from .models import Category


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        # A lazy queryset: pages that do not render the navigation never run it.
        "nav_categories": Category.objects.filter(sources__isnull=False).distinct(),
    }
