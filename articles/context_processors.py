from django.conf import settings

from . import menus


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        # Called by the template that shows it: pages without the navigation never read it.
        "nav_categories": menus.nav_categories,
    }
