"""The JupiterOne target: J1's GraphQL and sync APIs over requests."""

from j1gitops.targets.jupiterone.settings import Settings, reject_file_urls
from j1gitops.targets.jupiterone.target import JupiterOneTarget

__all__ = ["JupiterOneTarget", "Settings", "reject_file_urls"]
