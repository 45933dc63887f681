"""The answer of ``/availableconstraint``: an actual content constraint saying which codes of
each dimension the data matching a query holds (what a data explorer greys out), with the
number of matching observations as an annotation (``obs_count``, as .Stat Suite writes it).
TIME_PERIOD is a time range from the first day of the earliest period to the last day of the
latest.
SDMX-ML 2.1 structure message, or SDMX-JSON 2.0 structure message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from standards.sdmx import ml, periods
from standards.sdmx.catalogue import Dataflow, label
from standards.sdmx.data_query import TIME_PERIOD

_NAME = {"en": "Data available in {id}", "fr": "Données disponibles dans {id}",
         "ru": "Имеющиеся данные {id}"}


def constraint_id(flow: Dataflow) -> str:
    return f"CC_{flow.id}"


def _span(values: tuple[str, ...]) -> tuple[str, str]:
    """The first and last day the periods cover (clients read the range as dates)."""
    spans = [p for p in (periods.parse(v) for v in values) if p is not None]
    if not spans:
        return values[0], values[-1]
    return min(p.first for p in spans).isoformat(), max(p.last for p in spans).isoformat()


def _time_range(values: tuple[str, ...]) -> str:
    start, end = _span(values)
    return (f'<com:TimeRange><com:StartPeriod isInclusive="true">{start}'
            f'</com:StartPeriod><com:EndPeriod isInclusive="true">{end}'
            f"</com:EndPeriod></com:TimeRange>")


def constraint_ml(flow: Dataflow, values: Mapping[str, tuple[str, ...]], observations: int,
                  *, message_id: str, prepared: datetime | None = None) -> str:
    key_values = []
    for dim, codes in values.items():
        if not codes:
            continue
        inner = _time_range(codes) if dim == TIME_PERIOD else "".join(
            f"<com:Value>{ml.text(c)}</com:Value>" for c in codes)
        key_values.append(f"<com:KeyValue id={ml.attr(dim)}>{inner}</com:KeyValue>")
    cid = constraint_id(flow)
    urn = f"urn:sdmx:org.sdmx.infomodel.registry.ContentConstraint={flow.agency}:{cid}" \
          f"({flow.version})"
    names = {k: v.format(id=flow.id) for k, v in _NAME.items()}
    return (ml.DECLARATION + f"<mes:Structure {ml.xmlns('mes', 'str', 'com')}>"
            + ml.header(message_id, sender=flow.agency, now=prepared)
            + "<mes:Structures><str:Constraints>"
            f"<str:ContentConstraint id={ml.attr(cid)} urn={ml.attr(urn)} "
            f"agencyID={ml.attr(flow.agency)} version={ml.attr(flow.version)} "
            'isExternalReference="false" isFinal="false" type="Actual">'
            '<com:Annotations><com:Annotation id="obs_count">'
            f"<com:AnnotationTitle>{observations}</com:AnnotationTitle>"
            "<com:AnnotationType>sdmx_metrics</com:AnnotationType></com:Annotation>"
            "</com:Annotations>"
            + ml.names("Name", names)
            + "<str:ConstraintAttachment><str:Dataflow>"
            f'<Ref agencyID={ml.attr(flow.agency)} id={ml.attr(flow.id)} '
            f'version={ml.attr(flow.version)} package="datastructure" class="Dataflow"/>'
            "</str:Dataflow></str:ConstraintAttachment>"
            f'<str:CubeRegion include="true">{"".join(key_values)}</str:CubeRegion>'
            "</str:ContentConstraint></str:Constraints></mes:Structures></mes:Structure>")


def constraint_json(flow: Dataflow, values: Mapping[str, tuple[str, ...]], observations: int,
                    *, message_id: str, lang: str, prepared: datetime | None = None) -> str:
    key_values = []
    for dim, codes in values.items():
        if not codes:
            continue
        if dim == TIME_PERIOD:
            start, end = _span(codes)
            key_values.append({"id": dim, "timeRange": {
                "startPeriod": {"period": start, "isInclusive": True},
                "endPeriod": {"period": end, "isInclusive": True}}})
        else:
            key_values.append({"id": dim, "values": list(codes)})
    names = {k: v.format(id=flow.id) for k, v in _NAME.items()}
    message = {
        "meta": {"id": message_id, "test": False, "prepared": ml.prepared(prepared),
                 "contentLanguages": [lang], "sender": {"id": flow.agency}},
        "data": {"contentConstraints": [{
            "id": constraint_id(flow), "agencyID": flow.agency, "version": flow.version,
            "name": label(names, lang), "names": names, "type": "Actual",
            "annotations": [{"id": "obs_count", "title": str(observations),
                             "type": "sdmx_metrics"}],
            "constraintAttachment": {"dataflows": [
                f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={flow.urn}"]},
            "cubeRegions": [{"isIncluded": True, "keyValues": key_values}]}]}}
    return json.dumps(message, ensure_ascii=False)
