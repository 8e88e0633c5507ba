from django.urls import path

from openkam.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.portfolio_list, name="list"),
    path("areas/new/", views.ta_create, name="ta_create"),
    path("areas/<int:pk>/edit/", views.ta_edit, name="ta_edit"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:product_pk>/indications/new/", views.indication_create, name="indication_create"),
    path("indications/<int:pk>/edit/", views.indication_edit, name="indication_edit"),
    path("indications/<int:pk>/delete/", views.indication_delete, name="indication_delete"),
]
