"""``/api/v1/handover``."""

from ninja import Router

router = Router(tags=["handover"])
