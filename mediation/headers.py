"""`Cross-Origin-Resource-Policy` on every response, static files included.

Django's SecurityMiddleware sets the other security headers but not this one.
`same-origin` stops other sites from embedding the site's pages, images or data
through `<img>`, `<script>` and the like; the API stays readable from other
sites' scripts, because CORS requests (django-cors-headers) are not subject to it.
"""

from django.conf import settings


class CrossOriginResourcePolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault(
            "Cross-Origin-Resource-Policy", settings.CROSS_ORIGIN_RESOURCE_POLICY
        )
        return response
