"""The catalog stage: the survey's taxonomy and papers as data, import, render and check."""

from tracker.catalog.store import Catalog, Entry
from tracker.catalog.taxonomy import Section, Taxonomy, load_taxonomy

__all__ = ["Catalog", "Entry", "Section", "Taxonomy", "load_taxonomy"]
