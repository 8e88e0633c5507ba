from django.urls import path  # noqa: F401

app_name = "market_access"

urlpatterns: list = []
