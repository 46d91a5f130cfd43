"""j1gitops: keep a JupiterOne asset inventory in Git and apply it declaratively."""

__version__ = "0.1.0"
