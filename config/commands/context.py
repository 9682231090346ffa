from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from config.runtime import Runtime


@dataclass
class CommandContext:
    runtime: Runtime
    out: TextIO
    actor: str

    def print(self, *parts: object) -> None:
        print(*parts, file=self.out)

    def approval_terms(self) -> dict[str, Any]:
        """``required`` and ``ttl`` of a new dual-control request, from ``[approvals]``."""
        settings = self.runtime.settings.approvals
        return {"required": settings.required, "ttl": timedelta(hours=settings.ttl_hours)}

    def print_approval_needed(self, what: str, request_id: int, then: str) -> None:
        settings = self.runtime.settings.approvals
        self.print(
            f"{what} needs {settings.required} approval(s) by other administrators within "
            f"{settings.ttl_hours} h: sekap-trust approvals approve {request_id}"
        )
        self.print(f"then: {then}")

    def print_json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, ensure_ascii=False, default=str), file=self.out)
