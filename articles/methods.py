"""TRACE is refused everywhere: function views and feeds would answer it like GET."""

from django.http import HttpResponseNotAllowed

ALLOWED = ["GET", "HEAD", "POST", "OPTIONS"]


class RejectTraceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "TRACE":
            return HttpResponseNotAllowed(ALLOWED)
        return self.get_response(request)
