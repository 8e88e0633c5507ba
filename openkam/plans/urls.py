from django.urls import path

from openkam.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/transition/", views.plan_transition, name="transition"),
    path("<int:pk>/delete/", views.plan_delete, name="delete"),
    path("<int:pk>/objectives/add/", views.objective_add, name="objective_add"),
    path("objectives/<int:objective_id>/edit/", views.objective_edit, name="objective_edit"),
    path("objectives/<int:objective_id>/delete/", views.objective_delete, name="objective_delete"),
    path("objectives/<int:objective_id>/tactics/add/", views.tactic_add, name="tactic_add"),
    path("tactics/<int:tactic_id>/edit/", views.tactic_edit, name="tactic_edit"),
    path("tactics/<int:tactic_id>/delete/", views.tactic_delete, name="tactic_delete"),
    path("tactics/<int:tactic_id>/actions/add/", views.action_add, name="action_add"),
    path("actions/<int:action_id>/edit/", views.action_edit, name="action_edit"),
    path("actions/<int:action_id>/delete/", views.action_delete, name="action_delete"),
    path("actions/<int:action_id>/status/", views.action_status, name="action_status"),
    path("quick/<str:kind>/<int:pk>/", views.quick_form, name="quick_form"),
    path("<int:pk>/history/", views.plan_history, name="history"),
    # sections, edited in place
    path("<int:pk>/section/<str:card>/", views.section_card, name="section"),
    path("<int:pk>/section/<str:kind>/add/", views.section_add, name="section_add"),
    path("<int:pk>/section/<str:kind>/form/", views.section_add_form, name="section_add_form"),
    path("<int:pk>/section/<str:kind>/add/<int:parent_id>/", views.section_add, name="section_add_child"),
    path("section/<str:kind>/<int:item_id>/", views.section_item, name="section_item"),
    path("section/<str:kind>/<int:item_id>/delete/", views.section_item_delete, name="section_item_delete"),
    path("section/<str:kind>/<int:item_id>/toggle/", views.section_item_toggle, name="section_item_toggle"),
    # versions, clone, customer agreement, templates
    path("<int:pk>/compare/", views.plan_compare, name="compare"),
    path("<int:pk>/clone/", views.plan_clone, name="clone"),
    path("<int:pk>/agreement/", views.agreement_record, name="agreement"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_create"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
]

# exports, the customer version and the Excel import (openkam/plans/views_exports.py)
from openkam.plans import views_exports  # noqa: E402

urlpatterns += [
    path("<int:pk>/export/<str:fmt>/", views_exports.plan_export, name="export"),
    path("<int:pk>/customer/", views_exports.plan_customer_view, name="customer"),
    path("<int:pk>/import/", views_exports.plan_import, name="import"),
]
