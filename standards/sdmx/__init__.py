"""SDMX views of the standard: the catalogue of published artefacts and the pure writers and
query parsers built on it (no web code: the REST routes live in ``exchange.sdmx``)."""

from standards.sdmx.catalogue import (
    Catalogue,
    Component,
    Dataflow,
    DataStructure,
    label,
    load_catalogue,
)

__all__ = ["Catalogue", "Component", "DataStructure", "Dataflow", "label", "load_catalogue"]
