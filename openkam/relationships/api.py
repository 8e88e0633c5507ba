"""``/api/v1/relationships``."""

from ninja import Router

router = Router(tags=["relationships"])
