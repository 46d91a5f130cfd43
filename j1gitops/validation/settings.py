"""Settings for checking an inventory against the J1 data model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from j1gitops.diagnostics import Severity

Level = Literal["error", "warning"]
LEVELS: tuple[Level, ...] = ("error", "warning")


@dataclass
class ValidationSettings:
    """Options of one validation run.

    J1 platform rules (``_key`` duplicates, reserved or invalid property names,
    nested values, unknown classes and verbs, ...) are errors whatever these
    settings are. Only data-model conformance (rules ``schema`` and
    ``invalid-date``) follows ``data_model_level`` and ``class_levels``.
    """

    # Apply the data model verbatim: a required property stays required even where
    # the data model lets it be null. By default such a property may be omitted.
    strict: bool = False
    # Severity of data-model findings for classes not named in ``class_levels``.
    data_model_level: Level = "error"
    # Severity of data-model findings per entity class, such as {"Host": "warning"}.
    class_levels: dict[str, Level] = field(default_factory=dict)
    # The J1 scope that the inventory is synchronised to; used in messages.
    scope: str = ""

    def __post_init__(self) -> None:
        named_levels = {"data_model_level": self.data_model_level}
        for name, level in self.class_levels.items():
            named_levels[f"class_levels[{name!r}]"] = level
        for setting, level in named_levels.items():
            if level not in LEVELS:
                raise ValueError(
                    f"{setting} must be 'error' or 'warning', not {level!r}"
                )

    def severity_for(self, classes: tuple[str, ...]) -> Severity:
        """Return the severity of data-model findings on an entity of ``classes``.

        An entity of several classes gets the most severe of their levels; with no
        classes (a relationship), ``data_model_level`` applies.
        """
        levels = [
            self.class_levels.get(name, self.data_model_level) for name in classes
        ]
        if "error" in (levels or [self.data_model_level]):
            return Severity.ERROR
        return Severity.WARNING
