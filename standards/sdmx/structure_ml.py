"""SDMX-ML 2.1 structure messages (``mes:Structure``) from a resolved structure query.

Containers come in the order the SDMX 2.1 schema wants them (``ArtefactType`` order), every
maintainable artefact carries its URN, every ``Ref`` names agencyID, id, version, class and
package (sdmx1 and pysdmx resolve references by them). Names and descriptions are written in
every language we have, the caller's language first: a client that keeps one name per
artefact keeps the one asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from standards.model import Code, Codelist
from standards.sdmx import ml
from standards.sdmx.artefacts import Artefact, ArtefactType, item_urn
from standards.sdmx.catalogue import (
    LANGUAGES,
    Categorisation,
    CategoryScheme,
    Component,
    ConceptScheme,
    Dataflow,
    DataStructure,
)
from standards.sdmx.structure_query import Entry, Selection


def languages_for(lang: str) -> tuple[str, ...]:
    """Our languages, ``lang`` first."""
    return (lang, *(x for x in LANGUAGES if x != lang))


def _ref(attrs: Mapping[str, str]) -> str:
    return "<Ref " + " ".join(f"{k}={ml.attr(v)}" for k, v in attrs.items()) + "/>"


def _annotations(code: Code) -> str:
    """A region's member states, as the annotation ``MEMBERS`` (comma-separated ids): who a
    regional figure covers is part of what it means."""
    members = code.properties.get("members")
    if not members:
        return ""
    return ('<com:Annotations><com:Annotation id="MEMBERS">'
            f"<com:AnnotationTitle>{ml.text(','.join(map(str, members)))}</com:AnnotationTitle>"
            "<com:AnnotationType>MEMBERS</com:AnnotationType>"
            "</com:Annotation></com:Annotations>")


def maintainable_ref(kind: ArtefactType, agency: str, id: str, version: str) -> str:
    return _ref({"id": id, "agencyID": agency, "version": version, "package": kind.package,
                 "class": kind.cls})


def concept_ref(scheme: ConceptScheme, concept: str) -> str:
    return _ref({"id": concept, "maintainableParentID": scheme.id,
                 "maintainableParentVersion": scheme.version, "agencyID": scheme.agency,
                 "package": "conceptscheme", "class": "Concept"})


class _Writer:
    def __init__(self, concept_scheme: ConceptScheme, agency: str, lang: str) -> None:
        self.concepts = concept_scheme
        self.agency = agency
        self.langs = languages_for(lang)

    def names(self, names: Mapping[str, str], description: Mapping[str, str] | None = None
              ) -> str:
        out = ml.names("Name", names, self.langs)
        if description:
            out += ml.names("Description", description, self.langs)
        return out

    def open(self, entry: Entry, extra: str = "") -> str:
        a = entry.artefact
        tag = a.type.cls
        attrs = (f"id={ml.attr(a.id)} agencyID={ml.attr(a.agency)} "
                 f"version={ml.attr(a.version)} urn={ml.attr(a.urn)}")
        if entry.stub:
            attrs += ' isExternalReference="true"'
        if entry.partial:
            attrs += ' isPartial="true"'
        return f"<str:{tag} {attrs}{extra}>"

    def artefact(self, entry: Entry) -> str:
        a = entry.artefact
        obj = a.obj
        description = getattr(obj, "description", None) or None
        head = self.open(entry)
        if entry.stub:
            return (head + self.names(a.name, description if entry.complete else None)
                    + f"</str:{a.type.cls}>")
        body = self.names(a.name, description)
        if isinstance(obj, Dataflow):
            body += ("<str:Structure>" + maintainable_ref(
                ArtefactType.DATASTRUCTURE, obj.structure.agency, obj.structure.id,
                obj.structure.version) + "</str:Structure>")
        elif isinstance(obj, Codelist):
            body += "".join(self.code(a, c) for c in obj.codes if entry.keeps(c.id))
        elif isinstance(obj, ConceptScheme):
            body += "".join(
                f"<str:Concept id={ml.attr(cid)} "
                f"urn={ml.attr(item_urn(a.type, a.agency, a.id, a.version, cid))}>"
                f"{self.names(names)}</str:Concept>"
                for cid, names in obj.concepts.items() if entry.keeps(cid))
        elif isinstance(obj, CategoryScheme):
            body += "".join(
                f"<str:Category id={ml.attr(c.id)} "
                f"urn={ml.attr(item_urn(a.type, a.agency, a.id, a.version, c.id))}>"
                f"{self.names(c.name)}</str:Category>"
                for c in obj.categories if entry.keeps(c.id))
        elif isinstance(obj, Categorisation):
            body += self.categorisation(obj)
        elif isinstance(obj, DataStructure):
            body += self.components(obj)
        return head + body + f"</str:{a.type.cls}>"

    def code(self, scheme: Artefact, code: Code) -> str:
        urn = item_urn(scheme.type, scheme.agency, scheme.id, scheme.version, code.id)
        return (f"<str:Code id={ml.attr(code.id)} urn={ml.attr(urn)}>{_annotations(code)}"
                f"{self.names(code.name, code.description)}</str:Code>")

    def categorisation(self, cat: Categorisation) -> str:
        flow = cat.dataflow
        target = _ref({"id": cat.category.id, "maintainableParentID": cat.scheme,
                       "maintainableParentVersion": cat.version, "agencyID": cat.agency,
                       "package": "categoryscheme", "class": "Category"})
        return ("<str:Source>" + maintainable_ref(ArtefactType.DATAFLOW, flow.agency, flow.id,
                                                  flow.version)
                + "</str:Source><str:Target>" + target + "</str:Target>")

    def representation(self, component: Component, time: bool = False) -> str:
        if component.codelist is not None:
            cl = component.codelist
            return ("<str:LocalRepresentation><str:Enumeration>"
                    + maintainable_ref(ArtefactType.CODELIST, self.agency, cl.id, cl.version)
                    + "</str:Enumeration></str:LocalRepresentation>")
        text_type = component.text_type or ("ObservationalTimePeriod" if time else "String")
        return (f"<str:LocalRepresentation><str:TextFormat textType={ml.attr(text_type)}/>"
                "</str:LocalRepresentation>")

    def identity(self, component: Component) -> str:
        return ("<str:ConceptIdentity>" + concept_ref(self.concepts, component.id)
                + "</str:ConceptIdentity>")

    def components(self, dsd: DataStructure) -> str:
        dims = []
        for position, d in enumerate(dsd.dimensions, start=1):
            tag = "TimeDimension" if d is dsd.time_dimension else "Dimension"
            dims.append(f"<str:{tag} id={ml.attr(d.id)} position=\"{position}\">"
                        + self.identity(d) + self.representation(d, time=tag != "Dimension")
                        + f"</str:{tag}>")
        attributes = "".join(
            f"<str:Attribute id={ml.attr(a.id)} assignmentStatus="
            f"\"{'Mandatory' if a.mandatory else 'Conditional'}\">"
            + self.identity(a) + self.representation(a)
            + "<str:AttributeRelationship><str:PrimaryMeasure>"
            + _ref({"id": dsd.measure.id}) + "</str:PrimaryMeasure></str:AttributeRelationship>"
            "</str:Attribute>" for a in dsd.attributes)
        measure = dsd.measure
        return ("<str:DataStructureComponents>"
                '<str:DimensionList id="DimensionDescriptor">' + "".join(dims)
                + "</str:DimensionList>"
                + (f'<str:AttributeList id="AttributeDescriptor">{attributes}'
                   "</str:AttributeList>" if attributes else "")
                + '<str:MeasureList id="MeasureDescriptor">'
                f"<str:PrimaryMeasure id={ml.attr(measure.id)}>" + self.identity(measure)
                + self.representation(measure) + "</str:PrimaryMeasure></str:MeasureList>"
                "</str:DataStructureComponents>")


def structure_message(selection: Selection, *, concept_scheme: ConceptScheme,
                      agency: str, lang: str, message_id: str,
                      now: datetime | None = None) -> str:
    """The whole message as text (structure messages are small: no streaming needed)."""
    writer = _Writer(concept_scheme, agency, lang)
    parts = [ml.DECLARATION,
             f"<mes:Structure {ml.xmlns('mes', 'str', 'com')}>",
             ml.header(message_id, sender=agency, now=now), "<mes:Structures>"]
    for kind in ArtefactType:
        entries = selection.of_type(kind)
        if entries:
            parts.append(f"<str:{kind.container}>")
            parts.extend(writer.artefact(e) for e in entries)
            parts.append(f"</str:{kind.container}>")
    parts.append("</mes:Structures></mes:Structure>")
    return "".join(parts)
