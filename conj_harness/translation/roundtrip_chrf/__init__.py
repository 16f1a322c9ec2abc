"""The round-trip chrF metric module, shipped with the package and loaded by path with ``evaluate.load``."""
