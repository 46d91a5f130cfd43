"""Jinja2 templates in the inventory: ``*.yaml.j2`` and ``*.json.j2`` files.

A template is rendered in a sandbox (``sandbox.TemplateEnvironment``) with the
config's ``vars`` as variables and its ``data`` files (CSV, JSON or YAML, read
as lists of records) under ``data``, and its output is read like any inventory
file. Errors point at the template's file and line. An entity or relationship
that appears twice in a template's output is an error naming both data records.

    vars:
      company: acme
    data:
      devices: data/devices.csv

    # inventory/devices.yaml.j2
    entities:
    {% for row in data.devices %}
      - _key: "{{ company }}-device:{{ row.serial }}"
        _type: {{ company }}_device
        ...
    {% endfor %}
"""

from __future__ import annotations

from j1gitops.config import Config
from j1gitops.templates.render import TemplateRenderer


def make_renderer(config: Config) -> TemplateRenderer:
    """Return the renderer that the inventory reader calls for each template file."""
    return TemplateRenderer(config)


__all__ = ["TemplateRenderer", "make_renderer"]
