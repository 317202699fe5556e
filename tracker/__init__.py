"""tracker: an automated literature tracker for the survey of deep-learning model supply-chain
security."""

__version__ = "0.1.0"
