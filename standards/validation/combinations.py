"""Rule families "combination" and "rounding": codes that must make sense together, and the
multiples a file declared rounded must hold.

Every combination is decided on the two columns' dictionaries (which entries of one column
clash with which of the other); rows are touched by one lookup per column. The conditions come
from the code lists' properties, never from code names: ``child_only``/``female_only`` on
CL_SPEC_NEED, ``period_pattern`` on CL_FREQ, ``counterpart`` and ``units`` on CL_MEASURE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from standards.model import Standard
from standards.validation.columns import Upload, anchored, first_rows
from standards.validation.report import Issue, Report, Rule


@dataclass(frozen=True)
class Clash:
    """Rows where ``column`` holds one of ``values`` while ``other`` holds one of
    ``other_values`` are wrong; the row is reported at ``column``."""

    column: str
    values: list[str]
    other: str
    other_values: list[str]
    message: str
    hint: str


def clashes(standard: Standard, upload: Upload) -> list[Clash]:
    """The combinations the standard forbids, given the values the file uses."""
    out: list[Clash] = []
    ages = standard.codelists["CL_AGE"].codes
    adult = [c.id for c in ages if c.properties.get("lower") is not None
             and int(c.properties["lower"]) >= 18]  # type: ignore[call-overload]
    needs = standard.codelists["CL_SPEC_NEED"].codes
    child_only = [c.id for c in needs if c.properties.get("child_only")]
    female_only = [c.id for c in needs if c.properties.get("female_only")]
    out.append(Clash("AGE", adult, "SPEC_NEED", child_only,
                     "{value} is an adult age band, but SPEC_NEED={other} counts children only.",
                     "Unaccompanied and separated children are under 18: use a band under 18 or "
                     "_U, or another SPEC_NEED."))
    out.append(Clash("SEX", ["M"], "SPEC_NEED", female_only,
                     "SEX=M with SPEC_NEED={other}, a group of women and girls only.",
                     "Use SEX=F (or _T/_U), or another SPEC_NEED."))
    # Only valid codes and periods clash: a malformed one is the code-list or period-format
    # rule's error alone (one mistake, one error).
    period_format = anchored(standard.dimension["TIME_PERIOD"].pattern or ".")
    for freq in standard.codelists["CL_FREQ"].codes:
        pattern = str(freq.properties.get("period_pattern") or "")
        periods = upload.coded.get("TIME_PERIOD")
        if not pattern or periods is None:
            continue
        wrong = periods.entries.filter(
            periods.entries.str.contains(period_format).fill_null(False)
            & ~periods.entries.str.contains(pattern).fill_null(False))
        out.append(Clash("TIME_PERIOD", wrong.to_list(), "FREQ", [freq.id],
                         "{value} is not a period of FREQ={other}.",
                         "Quarters (YYYY-Qn) have FREQ=Q, emergency weeks (YYYY-Www) FREQ=W; "
                         "or leave FREQ out and it follows the period."))
    measures = standard.codelists["CL_MEASURE"].codes
    without = [m.id for m in measures if m.properties.get("counterpart", "none") == "none"]
    with_ = [m.id for m in measures if m.id not in without]
    areas = upload.coded.get("COUNTERPART_AREA")
    if areas is not None:
        counterparts = standard.dimension["COUNTERPART_AREA"].codelist
        given = [a for a in areas.entries.to_list() if a != "_Z" and counterparts is not None
                 and a in counterparts]
        out.append(Clash("COUNTERPART_AREA", given, "MEASURE", without,
                         "COUNTERPART_AREA={value} but MEASURE={other} has no origin or "
                         "destination.", "Use _Z (not applicable) for this measure."))
        out.append(Clash("COUNTERPART_AREA", ["_Z"], "MEASURE", with_,
                         "COUNTERPART_AREA=_Z (not applicable) but MEASURE={other} is a flow "
                         "with an origin or destination.",
                         "Give the country, _U if unknown, or _T for all."))
    for unit in standard.codelists["CL_UNIT_MEASURE"].ids:
        refusing = [m.id for m in measures if unit not in list(
            m.properties.get("units") or ["PER"])]  # type: ignore[call-overload]
        out.append(Clash("UNIT_MEASURE", [unit], "MEASURE", refusing,
                         "UNIT_MEASURE={value} is not a unit of MEASURE={other}.",
                         "See `mmx standard show MEASURE` for each measure's units."))
    return out


def check_combinations(upload: Upload, report: Report, standard: Standard) -> Upload:
    """Report every forbidden combination (rule ``combination``); the rows are marked bad."""
    found: dict[str, np.ndarray] = {}
    reasons: dict[tuple[int, str], Clash] = {}
    for rows, clash in _clashing_rows(upload, clashes(standard, upload)):
        key = f"{clash.column}|{clash.other}|{clash.message}"
        found[key] = rows
        for i in rows[: report.max_per_rule].tolist():
            reasons.setdefault((i, key), clash)
    flagged = np.zeros(upload.height, dtype=bool)
    for rows in found.values():
        flagged[rows] = True
    found |= _mixed_units(upload, standard, flagged)
    if not found:
        return upload
    total = sum(rows.size for rows in found.values())
    examples = []
    for i, key in first_rows(found, list(found), report.max_per_rule):
        clash = reasons.get((i, key))
        if clash is None:  # a mixed unit
            measure = upload.coded["MEASURE"].value(i)
            examples.append(Issue(
                Rule.COMBINATION, f"MEASURE={measure} is given in more than one unit.",
                row=int(upload.rows[i]), column="UNIT_MEASURE",
                value=upload.coded["UNIT_MEASURE"].value(i),
                hint="Give each measure in one unit (persons or cases) within a file."))
            continue
        value = upload.coded[clash.column].value(i)
        other = upload.coded[clash.other].value(i)
        examples.append(Issue(Rule.COMBINATION, clash.message.format(value=value, other=other),
                              row=int(upload.rows[i]), column=clash.column, value=value,
                              hint=clash.hint))
    report.add_counted(Rule.COMBINATION, examples, int(total))
    bad = upload.bad.copy()
    for rows in found.values():
        bad[rows] = True
    return upload.with_(bad=bad)


def _clashing_rows(upload: Upload, found: list[Clash]) -> list[tuple[np.ndarray, Clash]]:
    """The rows of each clash, one lookup per pair of columns: a table over the two columns'
    dictionaries says which clash (if any) each pair of entries is, and each row is looked up
    once in it."""
    by_pair: dict[tuple[str, str], list[Clash]] = {}
    for clash in found:
        if clash.column in upload.coded and clash.other in upload.coded:
            by_pair.setdefault((clash.column, clash.other), []).append(clash)
    out: list[tuple[np.ndarray, Clash]] = []
    for (column, other), pair_clashes in by_pair.items():
        one, two = upload.coded[column], upload.coded[other]
        width = len(two.entries) + 1  # the last row and column stand for empty cells
        table = np.zeros((len(one.entries) + 1, width), dtype=np.int8)
        for k, clash in enumerate(pair_clashes, start=1):
            flags = np.append(one.entries.is_in(clash.values).to_numpy(), False)
            other_flags = np.append(two.entries.is_in(clash.other_values).to_numpy(), False)
            cell = np.outer(flags, other_flags) & (table == 0)
            table[cell] = k
        if not table.any():
            continue
        # Only rows whose entries take part in some clash are looked up, from the side where
        # they are fewer (children's needs are a few percent of the rows).
        candidates = None
        counts_one, counts_two = one.counts(), two.counts()
        involved_one = table[:-1].any(axis=1)
        involved_two = table[:, :-1].any(axis=0)
        if counts_one[involved_one].sum() <= counts_two[involved_two].sum():
            if counts_one[involved_one].sum() < one.ids.size // 2:
                candidates = one.rows_where(involved_one)
        elif counts_two[involved_two].sum() < two.ids.size // 2:
            candidates = two.rows_where(involved_two)
        ids_one = one.ids if candidates is None else one.ids[candidates]
        ids_two = two.ids if candidates is None else two.ids[candidates]
        which = table.reshape(-1)[np.where(ids_one < 0, len(one.entries), ids_one) * width
                                  + np.where(ids_two < 0, len(two.entries), ids_two)]
        hit = np.flatnonzero(which)
        if candidates is not None:
            which, hit = which[hit], candidates[hit]
            for k, clash in enumerate(pair_clashes, start=1):
                rows = hit[which == k]
                if rows.size:
                    out.append((rows, clash))
            continue
        for k, clash in enumerate(pair_clashes, start=1):
            rows = hit[which[hit] == k]
            if rows.size:
                out.append((rows, clash))
    return out


def _mixed_units(upload: Upload, standard: Standard, flagged: np.ndarray
                 ) -> dict[str, np.ndarray]:
    """Rows of a measure given in a unit other than the first one it is given in (rows already
    reported for their unit aside; units that are not codes are the code-list rule's)."""
    units, measures = upload.coded.get("UNIT_MEASURE"), upload.coded.get("MEASURE")
    if units is None or measures is None or len(units.entries) < 2:
        return {}
    pair = measures.ids.astype(np.int64) * (len(units.entries) + 1) + units.ids
    coded_unit = units.where(units.entries.is_in(
        list(standard.codelists["CL_UNIT_MEASURE"].ids)).fill_null(False).to_numpy())
    valid = (measures.ids >= 0) & (units.ids >= 0) & coded_unit & ~flagged
    # The usual case, one unit per measure, told by a bitmap over (measure, unit) pairs.
    width = len(units.entries) + 1
    pairs = np.zeros((len(measures.entries) + 1) * width, dtype=bool)
    pairs[pair[valid]] = True
    if pairs.reshape(-1, width).sum(axis=1).max(initial=0) <= 1:
        return {}
    first_unit: dict[int, int] = {}
    wrong = np.zeros(upload.height, dtype=bool)
    unique, first = np.unique(pair[valid], return_index=True)
    rows = np.flatnonzero(valid)[first]
    for p, _row in sorted(zip(unique.tolist(), rows.tolist(), strict=True), key=lambda x: x[1]):
        measure, unit = divmod(p, len(units.entries) + 1)
        if first_unit.setdefault(measure, unit) != unit:
            wrong |= valid & (pair == p)
    rows_wrong = np.flatnonzero(wrong)
    return {"UNIT_MEASURE|MEASURE|mixed": rows_wrong} if rows_wrong.size else {}


def check_rounding(upload: Upload, report: Report, standard: Standard, base: int) -> None:
    """Every count of a file declared rounded to ``base`` is a multiple of it."""
    if base <= 1:
        return
    rows = np.flatnonzero(~upload.value_null & (upload.value % base != 0))
    report.add_counted(
        Rule.ROUNDING,
        [Issue(Rule.ROUNDING, f"{int(upload.value[i])} is not a multiple of {base}, the "
               "rounding base declared for this file.", row=int(upload.rows[i]),
               column=standard.measure, value=str(int(upload.value[i])),
               hint=f"Round to the nearest {base}, or declare the file unrounded.")
         for i in rows[: report.max_per_rule].tolist()],
        int(rows.size),
    )
