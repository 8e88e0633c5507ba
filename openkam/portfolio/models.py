"""Portfolio: therapeutic areas, products and their approved indications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from openkam.core.audit import audited
from openkam.core.models import TimeStamped


@audited()
class TherapeuticArea(TimeStamped):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    MARKETED = "marketed", _("Marketed")
    LAUNCH = "launch", _("In launch")
    PIPELINE = "pipeline", _("Pipeline")
    WITHDRAWN = "withdrawn", _("Withdrawn")


@audited()
class Product(TimeStamped):
    name = models.CharField(_("brand name"), max_length=200, unique=True)
    generic_name = models.CharField(_("generic name"), max_length=200)
    therapeutic_area = models.ForeignKey(TherapeuticArea, on_delete=models.PROTECT, related_name="products")
    status = models.CharField(_("status"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.MARKETED)
    launch_date = models.DateField(_("launch date"), null=True, blank=True)
    ndc = models.CharField(_("NDC"), max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@audited()
class Indication(TimeStamped):
    """An indication of a product. Only approved ones are in label: messaging stays inside them."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="indications")
    name = models.CharField(_("indication"), max_length=255)
    icd10 = models.CharField(_("ICD-10 code"), max_length=20, blank=True)
    line_of_therapy = models.CharField(_("line of therapy"), max_length=50, blank=True)
    approved = models.BooleanField(_("approved"), default=True)
    approval_date = models.DateField(_("approval date"), null=True, blank=True)

    class Meta:
        ordering = ["product", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="indication_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.product} — {self.name}"
