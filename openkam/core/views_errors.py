from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/forbidden.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "core/500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 from Django itself (e.g. too many query parameters): JSON in the API's error format, a page elsewhere."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        message = "The request is malformed or too large (e.g. too many parameters)."
        return JsonResponse({"code": "bad_request", "message": message, "errors": []}, status=400)
    return render(request, "core/404.html", {"bad_request": True}, status=400)
