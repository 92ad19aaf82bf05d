"""Request values no page can use are refused with a 4xx before any view runs."""

from django.http import HttpResponse

# A search is cut at 200 characters and shown; a query far past anything a
# form sends is a script's. Form bodies are bounded by
# DATA_UPLOAD_MAX_MEMORY_SIZE instead, since an article's HTML is long.
MAX_QUERY_VALUE_LENGTH = 10_000
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class RefuseBadInputMiddleware:
    """NUL in a query or form value is a 400; an over-long query value a 413.

    PostgreSQL text cannot hold NUL, so a query with one fails as a 500.
    (Lone surrogates cannot arrive: Django decodes bad UTF-8 with replacement.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request):
        for key, value in items(request.GET):
            if "\x00" in key or "\x00" in value:
                return refuse(400, "A query parameter holds a NUL character.")
            if len(key) + len(value) > MAX_QUERY_VALUE_LENGTH:
                return refuse(413, "A query parameter is too long.")
        if request.method == "POST" and request.content_type in FORM_TYPES:
            for key, value in items(request.POST):
                if "\x00" in key or "\x00" in value:
                    return refuse(400, "A form field holds a NUL character.")
        return None


def items(query_dict):
    for key, values in query_dict.lists():
        for value in values:
            yield key, value


def refuse(status, message):
    return HttpResponse(message, status=status, content_type="text/plain")
