"""The last line of defence that keeps the J1 API key out of what j1gitops prints.

The client keeps the key out of its messages. This module redacts it anyway
wherever the CLI writes an error or a progress line, in each form a message could
carry it: as written, JSON- or repr-escaped, and URL-encoded.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

# The environment variables that contain the key, in the order the J1 target
# reads them. J1's own tools use the other names: J1_API_TOKEN (the `j1` CLI of
# @jupiterone/jupiterone-client-nodejs), JUPITERONE_API_KEY (the integration SDK
# CLI, the Terraform provider and the MCP server), and JUPITERONE_API_TOKEN (the
# examples of the `jupiterone` Python client).
KEY_VARIABLES = (
    "J1_API_KEY",
    "J1_API_TOKEN",
    "JUPITERONE_API_KEY",
    "JUPITERONE_API_TOKEN",
)
REDACTED = "[redacted]"
# Shorter values are too likely to occur in ordinary text to be replaced.
MIN_SECRET_LENGTH = 6


def secret_forms(environ=None) -> list[str]:
    environ = os.environ if environ is None else environ
    forms: set[str] = set()
    for name in KEY_VARIABLES:
        value = environ.get(name, "")
        for secret in (value, value.strip()):
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            forms.update(
                {
                    secret,
                    json.dumps(secret)[1:-1],
                    repr(secret)[1:-1],
                    quote(secret, safe=""),
                }
            )
    # Longer forms first, so that no shorter form leaves part of a longer one behind.
    return sorted(forms, key=len, reverse=True)


def redact(text: str, environ=None) -> str:
    """Replace every form of the API key in ``text`` with ``[redacted]``."""
    for secret in secret_forms(environ):
        text = text.replace(secret, REDACTED)
    return text
