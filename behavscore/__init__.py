"""Score forced swim and tail suspension videos and join them with in-vitro pharmacology."""

__version__ = "0.1.0"
