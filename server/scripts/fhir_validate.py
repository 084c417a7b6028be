#!/usr/bin/env python3
"""Validates FHIR R4 (4.0.1) resources with a validator we did not write.

    fhir_validate.py [FILE ...]     (no FILE, or "-": standard input)

Each input is one JSON resource, a JSON array of resources, or
newline-delimited JSON (one resource per line). Every resource is parsed by
the `fhir.resources` package (6.4.0, the last release whose models are R4
4.0.1, generated from HL7's StructureDefinitions): element names and types,
cardinality, required elements, primitive formats (ids, instants, uris...).
That package does not enforce the codes of `required` bindings, so this
script checks each coded element against the values the same models list
for it (`enum_values`, e.g. Appointment.status, participant.status), and
checks codings of HL7's appointment-cancellation-reason code system against
that code system's published codes and displays (as HL7's validator does).

Prints "ok <name>" or "INVALID <name>: <errors>" per resource; exits 1 if
any resource is invalid, 2 if an input is not JSON or the validator is not
installed (server/scripts/setup.sh test installs it).
"""

import json
import sys

try:
    import fhir.resources
    from fhir.resources import get_fhir_model_class
    from fhir.resources.core.fhirabstractmodel import FHIRAbstractModel
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"fhir.resources is not installed ({e}): run server/scripts/setup.sh test\n"
    )
    sys.exit(2)

if getattr(fhir.resources, "__fhir_version__", None) != "4.0.1":
    sys.stderr.write(
        "fhir.resources validates FHIR %s here, not R4 4.0.1: run server/scripts/setup.sh test\n"
        % getattr(fhir.resources, "__fhir_version__", "?")
    )
    sys.exit(2)

CANCEL_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
# HL7's code system as FHIR R4 publishes it (terminology.hl7.org), code -> display.
CANCEL_REASONS = {
    "pat": "Patient",
    "pat-crs": "Patient: Canceled via automated reminder system",
    "pat-cpp": "Patient: Canceled via Patient Portal",
    "pat-dec": "Patient: Deceased",
    "pat-fb": "Patient: Feeling Better",
    "pat-lt": "Patient: Lack of Transportation",
    "pat-mt": "Patient: Member Terminated",
    "pat-mv": "Patient: Moved",
    "pat-preg": "Patient: Pregnant",
    "pat-swl": "Patient: Scheduled from Wait List",
    "pat-ucp": "Patient: Unhappy/Changed Provider",
    "prov": "Provider",
    "prov-dch": "Provider: Discharged",
    "prov-edu": "Provider: Edu/Meeting",
    "prov-hosp": "Provider: Hospitalized",
    "prov-labs": "Provider: Labs Out of Acceptable Range",
    "prov-mri": "Provider: MRI Screening Form Marked Do Not Proceed",
    "prov-onc": "Provider: Oncology Treatment Plan Changes",
    "prov-pers": "Provider: Personal",
    "maint": "Equipment Maintenance/Repair",
    "meds-inc": "Prep/Med Incomplete",
    "other": "Other",
    "oth-cms": "Other: CMS Therapy Cap Service Not Authorized",
    "oth-err": "Other: Error",
    "oth-fin": "Other: Financial",
    "oth-iv": "Other: Improper IV Access/Infiltrate IV",
    "oth-int": "Other: No Interpreter Available",
    "oth-mu": "Other: Prep/Med/Results Unavailable",
    "oth-room": "Other: Room/Resource Maintenance",
    "oth-oerr": "Other: Schedule Order Error",
    "oth-swie": "Other: Silent Walk In Error",
    "oth-weath": "Other: Weather",
}


def coded_errors(model, path):
    """Codes outside their required value set, anywhere in `model`."""
    errors = []
    for name, field in model.__fields__.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        here = f"{path}.{field.alias or name}"
        allowed = field.field_info.extra.get("enum_values")
        values = value if isinstance(value, list) else [value]
        for i, v in enumerate(values):
            at = f"{here}[{i}]" if isinstance(value, list) else here
            if allowed and isinstance(v, str) and v not in allowed:
                errors.append(f"{at}: '{v}' is not one of {allowed}")
            if isinstance(v, FHIRAbstractModel):
                errors.extend(coded_errors(v, at))
    if type(model).__name__ == "Coding" and model.system == CANCEL_REASON_SYSTEM:
        display = CANCEL_REASONS.get(model.code)
        if display is None:
            errors.append(f"{path}: '{model.code}' is not in {CANCEL_REASON_SYSTEM}")
        elif model.display is not None and model.display != display:
            errors.append(
                f"{path}: '{model.code}' is \"{display}\" in HL7's code system, not \"{model.display}\""
            )
    return errors


def validate(resource):
    """A list of errors, empty when `resource` is a valid R4 resource."""
    if not isinstance(resource, dict) or "resourceType" not in resource:
        return ["not a FHIR resource (no resourceType)"]
    try:
        cls = get_fhir_model_class(resource["resourceType"])
    except Exception:  # unknown resource type
        return [f"unknown resourceType '{resource['resourceType']}'"]
    try:
        model = cls.parse_obj(resource)
    except Exception as e:  # pydantic's ValidationError, one line per error
        return [line for line in str(e).splitlines()[1:]] or [str(e)]
    return coded_errors(model, resource["resourceType"])


def resources(text, source):
    """The resources of one input: a JSON value, or one per line."""
    try:
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    except json.JSONDecodeError:
        pass
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.stderr.write(f"{source}:{n}: not JSON: {e}\n")
                sys.exit(2)
    return out


def main(args):
    invalid = 0
    count = 0
    for source in args or ["-"]:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        for i, resource in enumerate(resources(text, source)):
            count += 1
            name = f"{source}#{i + 1}"
            if isinstance(resource, dict):
                name += f" {resource.get('resourceType', '?')}/{resource.get('id', '')}"
            errors = validate(resource)
            if errors:
                invalid += 1
                print(f"INVALID {name}: " + "; ".join(e.strip() for e in errors))
            else:
                print(f"ok {name}")
    if count == 0:
        sys.stderr.write("no resources to validate\n")
        return 2
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
