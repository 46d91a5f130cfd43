"""How views write property values: as JSON, short, on one line."""

from __future__ import annotations

import json
from typing import Any

MAX_VALUE_LENGTH = 200


def format_value(value: Any, limit: int = MAX_VALUE_LENGTH) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > limit:
        return text[: limit - 3] + "..."
    return text
