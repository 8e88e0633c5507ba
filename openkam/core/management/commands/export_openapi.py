"""Write the OpenAPI schema to a file, or check that the committed one matches the code (drift check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Export the OpenAPI schema (--output FILE) or fail if FILE differs from the code (--check FILE)."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--output")
        group.add_argument("--check")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.utils.module_loading import import_string

        api = import_string(settings.OPENKAM_API)  # the assembled API (config.api), named in settings
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text)
            self.stdout.write(f"wrote {options['output']} ({len(schema.get('paths', {}))} paths)")
            return
        path = Path(options["check"])
        committed = path.read_text() if path.exists() else ""
        if committed != text:
            sys.stderr.write(
                f"OpenAPI drift: {path} does not match the code. Run `make openapi` and commit the result.\n"
            )
            raise CommandError("openapi drift")
        self.stdout.write(f"OpenAPI schema up to date ({len(schema.get('paths', {}))} paths)")
