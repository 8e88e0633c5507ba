"""``/api/v1/commercial``."""

from ninja import Router

router = Router(tags=["commercial"])
