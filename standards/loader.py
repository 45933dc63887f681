"""The one loader of the standard: YAML/JSON data files in, typed :class:`Standard` out."""

from __future__ import annotations

import gettext
import hashlib
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import yaml

from standards.model import (
    Additivity,
    Attribute,
    Code,
    Codelist,
    Default,
    Dimension,
    IdentifierRule,
    MicrodataRule,
    Region,
    SourceRef,
    Standard,
)

DATA_DIR = Path(str(resources.files("standards") / "data"))
CURRENT_VERSION = "2.0.0"
_ISO_SOURCE = SourceRef(file="ISO 3166-1 (pycountry)", line=0)


# libyaml's loader when the wheel has it: the code lists parse several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_data_file(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)


def _sources(raw: list[dict[str, Any]] | None) -> tuple[SourceRef, ...]:
    return tuple(
        SourceRef(file=s["file"], line=int(s["line"]), quote=s.get("quote", "")) for s in raw or ()
    )


def _code(raw: dict[str, Any]) -> Code:
    known = {"id", "name", "description", "source"}
    return Code(
        id=str(raw["id"]),
        name=dict(raw["name"]),
        description=dict(raw.get("description") or {}),
        source=_sources(raw.get("source")),
        properties={k: v for k, v in raw.items() if k not in known},
    )


def _codelist_file(path: Path) -> Codelist:
    raw = read_data_file(path)
    return Codelist(
        id=raw["id"],
        version=str(raw.get("version", CURRENT_VERSION)),
        name=dict(raw["name"]),
        codes=tuple(_code(c) for c in raw["codes"]),
    )


COUNTRY_LANGUAGES = ("en", "ru", "fr")


def _country_labels(path: Path) -> dict[str, dict[str, str]]:
    """Natural short names (en, ru, fr) that replace the generated ISO names of some countries."""
    raw = read_data_file(path)
    labels: dict[str, dict[str, str]] = {}
    for alpha_3, name in (raw.get("labels") or {}).items():
        if not isinstance(name, dict) or set(name) != set(COUNTRY_LANGUAGES) or not all(
                isinstance(v, str) and v.strip() for v in name.values()):
            raise ValueError(f"{path.name}: {alpha_3} needs a label in each of "
                             f"{', '.join(COUNTRY_LANGUAGES)}, got {name!r}")
        labels[str(alpha_3)] = {lang: name[lang].strip() for lang in COUNTRY_LANGUAGES}
    return labels


def _iso_countries(labels: dict[str, dict[str, str]]) -> tuple[Code, ...]:
    """ISO 3166-1 alpha-3 from pycountry, with the Russian and French names it ships. A country
    in ``labels`` is labelled with those names instead; the ISO names it replaces stay aliases."""
    import pycountry  # only when the standard is loaded from its files, not from the cache

    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in COUNTRY_LANGUAGES if lang != "en"
    }
    codes = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        iso_name = {"en": country.name}
        for lang, tr in translations.items():
            iso_name[lang] = tr.gettext(country.name)
        name = labels.get(country.alpha_3, iso_name)
        codes.append(
            Code(
                id=country.alpha_3,
                name=name,
                description={"en": getattr(country, "official_name", country.name)},
                source=(_ISO_SOURCE,),
                properties={"alpha_2": country.alpha_2, "numeric": country.numeric,
                            **({"common_name": country.common_name}
                               if hasattr(country, "common_name") else {})},
                aliases=tuple(dict.fromkeys(
                    n for n in iso_name.values() if n not in name.values())),
            )
        )
    unknown = sorted(set(labels) - {c.id for c in codes})
    if unknown:
        raise ValueError(f"country labels for codes that are not ISO 3166-1 alpha-3: {unknown}")
    return tuple(codes)


def _codelists(data_dir: Path, spec: dict[str, dict[str, str]]) -> dict[str, Codelist]:
    out: dict[str, Codelist] = {}
    countries: dict[str, tuple[Code, ...]] = {}  # labels file -> the generated ISO codes
    for cl_id, how in spec.items():
        if "file" in how:
            out[cl_id] = _codelist_file(data_dir / how["file"])
            continue
        if how.get("generated") != "iso3166_alpha3":
            raise ValueError(f"{cl_id}: unknown code list generator {how!r}")
        labels_file = how.get("labels", "")
        if labels_file not in countries:
            labels = _country_labels(data_dir / labels_file) if labels_file else {}
            countries[labels_file] = _iso_countries(labels)
        codes = countries[labels_file]
        name = {"en": "Countries (ISO 3166-1 alpha-3)", "ru": "Страны (ISO 3166-1 alpha-3)",
                "fr": "Pays (ISO 3166-1 alpha-3)"}
        if "extra" in how:
            extra = _codelist_file(data_dir / how["extra"])
            codes = codes + extra.codes
            name = {lang: label.split(",")[0] for lang, label in extra.name.items()}
        out[cl_id] = Codelist(id=cl_id, version=CURRENT_VERSION, name=name, codes=codes)
    return out


def _additivity(dim_id: str, raw: dict[str, Any], codelist: Codelist) -> Additivity:
    """A total over the codes of a family, or over every code that is neither a total nor
    "not applicable" (_Z) nor the sum of other codes."""
    total = raw["total"]
    family = raw.get("parts_family")
    parts = tuple(
        c.id
        for c in codelist.codes
        if c.id not in (total, "_Z") and not c.properties.get("parts")
        and (family is None or c.properties.get("family") == family)
    )
    return Additivity(dimension=dim_id, total=total, parts=parts)


def _default(raw: dict[str, Any] | None) -> Default | None:
    if raw is None:
        return None
    return Default(default=raw.get("code"), source=raw.get("from"))


def _regions(path: Path, areas: Codelist) -> dict[str, Region]:
    raw = read_data_file(path)
    regions = {
        r["id"]: Region(
            id=r["id"],
            name=dict(r["name"]),
            members=tuple(r.get("members") or ()),
            subregions=tuple(r.get("subregions") or ()),
            description=dict(r.get("description") or {}),
            source=_sources(r.get("source")),
        )
        for r in raw["regions"]
    }
    for region in regions.values():
        unknown = [m for m in region.members if m not in areas]
        if unknown:
            raise ValueError(f"region {region.id}: members not in {areas.id}: {unknown}")
        missing = [s for s in region.subregions if s not in regions]
        if missing:
            raise ValueError(f"region {region.id}: unknown sub-regions {missing}")
    return regions


def load_standard_from(data_dir: Path) -> Standard:
    """Load a standard from a directory holding ``dsd.yaml`` and what it references."""
    dsd = read_data_file(data_dir / "dsd.yaml")
    codelists = _codelists(data_dir, dsd["codelists"])
    dimensions = []
    for position, raw in enumerate(dsd["dimensions"]):
        codelist = codelists[raw["codelist"]] if "codelist" in raw else None
        additivity = None
        if "additive" in raw:
            assert codelist is not None, f"{raw['id']}: an additive dimension needs a code list"
            additivity = _additivity(raw["id"], raw["additive"], codelist)
        dimensions.append(
            Dimension(
                id=raw["id"],
                name=dict(raw["name"]),
                position=position,
                codelist=codelist,
                pattern=raw.get("pattern"),
                additivity=additivity,
                default=_default(raw.get("default")),
                subsets_of=(raw.get("subsets") or {}).get("total"),
                band_systems=bool((raw.get("additive") or {}).get("band_systems")),
            )
        )
    attributes = tuple(
        Attribute(
            id=a["id"],
            name=dict(a["name"]),
            codelist=codelists[a["codelist"]],
            required=bool(a.get("required", False)),
            missing_codes=tuple(a.get("missing_codes") or ()),
            upload_codes=tuple(a["upload_codes"]) if "upload_codes" in a else None,
            default=_default(a.get("default")),
        )
        for a in dsd["attributes"]
    )
    privacy = read_data_file(data_dir / dsd["privacy"])
    return Standard(
        id=dsd["id"],
        agency=dsd["agency"],
        version=str(dsd["version"]),
        name=dict(dsd["name"]),
        dimensions=tuple(dimensions),
        measure=dsd["measure"]["id"],
        attributes=attributes,
        codelists=codelists,
        regions=_regions(data_dir / dsd["regions"], codelists["CL_AREA"]),
        identifier_rules=tuple(
            IdentifierRule(kind=r["kind"], patterns=tuple(r["patterns"]))
            for r in privacy["identifier_columns"]
        ),
        microdata=MicrodataRule(**privacy["microdata"]),
        additivity_tolerance=int(dsd.get("additivity_tolerance", 0)),
        disclosure=dict(privacy.get("disclosure") or {}),
    )


@cache
def load_standard() -> Standard:
    """The current standard, loaded once per process. Uploads following an older version are
    validated against it after ``standards.mappings`` has lifted their codes.

    Parsing the YAML and pycountry's names costs more than a validation of a small file, and
    `mmx validate` is a short-lived process: the loaded standard is kept in a cache file named
    by a digest of every data file (and of pycountry's data and this Python), so an edited
    code list, another pycountry or another interpreter is simply a different file. A cache
    that cannot be read or written is skipped.
    """
    path = _cache_dir() / f"standard-{_fingerprint(DATA_DIR)}.pickle"
    try:
        with path.open("rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, Standard):
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    standard = load_standard_from(DATA_DIR)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as fh:
            pickle.dump(standard, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
    except OSError:
        pass
    return standard


# Bumped when the shape of the cached objects changes.
CACHE_FORMAT = 2


def _cache_dir() -> Path:
    if os.environ.get("MMX_CACHE_DIR"):
        return Path(os.environ["MMX_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmx"


def _fingerprint(data_dir: Path) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{sys.version}".encode())
    spec = find_spec("pycountry")
    if spec is not None and spec.origin:
        for path in sorted((Path(spec.origin).parent / "databases").glob("*")):
            stat = path.stat()
            digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(data_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
