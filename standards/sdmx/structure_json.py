"""SDMX-JSON 2.0 structure messages from a resolved structure query, valid against the official
schema (``sdmx-json-structure-schema.json``, 2.0.0) and read by pysdmx's RegistryClient.

``name`` is the label in the caller's language (the schema's "best-language-match" text),
``names`` all of ours. References are URNs, as SDMX-JSON 2.0 writes them. The schema forbids
empty arrays, so a key without members is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from standards.model import Code, Codelist
from standards.sdmx import ml
from standards.sdmx.artefacts import ArtefactType, item_urn, maintainable_urn
from standards.sdmx.catalogue import (
    Categorisation,
    CategoryScheme,
    Component,
    ConceptScheme,
    Dataflow,
    DataStructure,
    label,
)
from standards.sdmx.structure_query import Entry, Selection

SCHEMA = ("https://raw.githubusercontent.com/sdmx-twg/sdmx-json/develop/structure-message/"
          "tools/schemas/2.0.0/sdmx-json-structure-schema.json")


def _texts(key: str, values: Mapping[str, str] | None, lang: str) -> dict[str, Any]:
    if not values:
        return {}
    plural = {k: v for k, v in values.items() if v}
    if not plural:
        return {}
    return {key: label(values, lang), key + "s": plural}


class _Writer:
    def __init__(self, concept_scheme: ConceptScheme, agency: str, lang: str) -> None:
        self.concepts = concept_scheme
        self.agency = agency
        self.lang = lang

    def nameable(self, id: str, names: Mapping[str, str],
                 description: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {"id": id, **_texts("name", names, self.lang),
                **_texts("description", description, self.lang)}

    def artefact(self, entry: Entry) -> dict[str, Any]:
        a = entry.artefact
        obj = a.obj
        description = getattr(obj, "description", None) or None
        out: dict[str, Any] = {
            **self.nameable(a.id, a.name,
                            description if (not entry.stub or entry.complete) else None),
            "agencyID": a.agency, "version": a.version}
        if entry.stub:
            out["isExternalReference"] = True
            return out
        if a.type.is_item_scheme:
            out["isPartial"] = entry.partial
        if isinstance(obj, Dataflow):
            out["structure"] = maintainable_urn(ArtefactType.DATASTRUCTURE, obj.structure.agency,
                                                obj.structure.id, obj.structure.version)
        elif isinstance(obj, Codelist):
            codes = [self.code(c) for c in obj.codes if entry.keeps(c.id)]
            if codes:
                out["codes"] = codes
        elif isinstance(obj, ConceptScheme):
            concepts = [self.nameable(cid, names) for cid, names in obj.concepts.items()
                        if entry.keeps(cid)]
            if concepts:
                out["concepts"] = concepts
        elif isinstance(obj, CategoryScheme):
            categories = [self.nameable(c.id, c.name) for c in obj.categories
                          if entry.keeps(c.id)]
            if categories:
                out["categories"] = categories
        elif isinstance(obj, Categorisation):
            flow = obj.dataflow
            out["source"] = maintainable_urn(ArtefactType.DATAFLOW, flow.agency, flow.id,
                                             flow.version)
            out["target"] = item_urn(ArtefactType.CATEGORYSCHEME, obj.agency, obj.scheme,
                                     obj.version, obj.category.id)
        elif isinstance(obj, DataStructure):
            out["dataStructureComponents"] = self.components(obj)
        return out

    def code(self, code: Code) -> dict[str, Any]:
        out = self.nameable(code.id, code.name, code.description)
        members = code.properties.get("members")
        if members:  # a region's member states (see structure_ml)
            out["annotations"] = [{"id": "MEMBERS", "title": ",".join(map(str, members)),
                                   "type": "MEMBERS"}]
        return out

    def concept(self, component: Component) -> str:
        s = self.concepts
        return item_urn(ArtefactType.CONCEPTSCHEME, s.agency, s.id, s.version, component.id)

    def representation(self, component: Component, default: str = "String"
                       ) -> dict[str, Any]:
        if component.codelist is not None:
            cl = component.codelist
            return {"enumeration": maintainable_urn(ArtefactType.CODELIST, self.agency, cl.id,
                                                    cl.version)}
        return {"format": {"dataType": component.text_type or default}}

    def components(self, dsd: DataStructure) -> dict[str, Any]:
        dimensions = [
            {"id": d.id, "position": i, "conceptIdentity": self.concept(d),
             "localRepresentation": self.representation(d)}
            for i, d in enumerate(dsd.key_dimensions, start=1)]
        time = dsd.time_dimension
        out: dict[str, Any] = {
            "dimensionList": {
                "id": "DimensionDescriptor", "dimensions": dimensions,
                "timeDimension": {
                    "id": time.id,
                    "conceptIdentity": self.concept(time),
                    "localRepresentation": self.representation(time,
                                                               "ObservationalTimePeriod")}},
            "measureList": {"id": "MeasureDescriptor", "measures": [
                {"id": dsd.measure.id, "conceptIdentity": self.concept(dsd.measure),
                 "usage": "optional", "localRepresentation": self.representation(dsd.measure)}
            ]}}
        if dsd.attributes:
            out["attributeList"] = {"id": "AttributeDescriptor", "attributes": [
                {"id": a.id, "usage": "mandatory" if a.mandatory else "optional",
                 "attributeRelationship": {"observation": {}},
                 "measureRelationship": [dsd.measure.id],
                 "conceptIdentity": self.concept(a),
                 "localRepresentation": self.representation(a)}
                for a in dsd.attributes]}
        return out


def structure_document(selection: Selection, *, concept_scheme: ConceptScheme, agency: str,
                       lang: str, message_id: str, now: datetime | None = None
                       ) -> dict[str, Any]:
    """The message as a JSON-ready dictionary."""
    writer = _Writer(concept_scheme, agency, lang)
    data: dict[str, Any] = {}
    for kind in ArtefactType:
        entries = selection.of_type(kind)
        if entries:
            data[kind.json_key] = [writer.artefact(e) for e in entries]
    return {"meta": {"schema": SCHEMA, "id": message_id, "test": False,
                     "prepared": ml.prepared(now), "contentLanguages": [lang],
                     "sender": {"id": agency}},
            "data": data}
