from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from config.runtime import Runtime


@dataclass
class CommandContext:
    runtime: Runtime
    out: TextIO
    actor: str

    def print(self, *parts: object) -> None:
        print(*parts, file=self.out)

    def print_json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, ensure_ascii=False, default=str), file=self.out)
