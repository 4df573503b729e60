#!/usr/bin/env python3
"""Derives connectors/catalog/datasets.json from the MGDC reference material.

Run once by a developer when the reference changes; the output is committed and embedded in
the binary, so nothing infers a schema at run time. Rules (documented in docs/catalog.md):
documented columns and order come from mgdc-datasets.json; where published sample rows exist
their shape wins (key casing, nested fields, enum values as text); nested shapes that are
neither documented nor sampled are kept as raw JSON text (`json`).
"""
import json
import re
import sys
from pathlib import Path

ref = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
out = Path(sys.argv[2] if len(sys.argv) > 2 else "connectors/catalog/datasets.json")
docs = json.loads((ref / "mgdc-datasets.json").read_text())["datasets"]

# Tables whose rows describe a group rather than a mailbox.
GROUP_SCOPED = {"GroupDetails_v0", "GroupMembers_v0", "GroupOwners_v0",
                "OutlookGroupConversations_v0", "TeamsChannelDetails_v0",
                "TeamsStandardChannelMessages_v0"}
# Calendar views take a required window but have no filter column.
WINDOW_ONLY = {"CalendarView_v0", "ConferenceRoomCalendar_v0"}
# Tables without published rows that hold the same entity as a table with them: the
# donor's observed nested shapes apply to columns of the same name.
SHAPE_DONORS = {"Inbox_v1": "Message_v1", "SentItems_v1": "Message_v1",
                "CalendarView_v0": "Event_v1"}
# ADF's documentation spells this table in the singular.
RENAMES = {"SentItems_v1": "SentItem_v1"}


def read_rows(path):
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16")
    else:
        text = raw.decode("utf-8-sig")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Shape:
    """What the sample values of one position look like, merged over all rows."""

    def __init__(self):
        self.kinds = set()
        self.fields = {}
        self.item = None

    def add(self, v):
        if v is None:
            self.kinds.add("null")
        elif isinstance(v, bool):
            self.kinds.add("boolean")
        elif isinstance(v, int):
            self.kinds.add("int64")
        elif isinstance(v, float):
            self.kinds.add("double")
        elif isinstance(v, str):
            self.kinds.add("string")
        elif isinstance(v, list):
            self.kinds.add("list")
            self.item = self.item or Shape()
            for x in v:
                self.item.add(x)
        else:
            self.kinds.add("struct")
            for k, x in v.items():
                self.fields.setdefault(k, Shape()).add(x)


def split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_format(fmt):
    """Turns a documented nested format into a type string, or None when it is truncated."""
    fmt = fmt.strip()
    if fmt.count("<") != fmt.count(">"):
        fmt = fmt.rstrip(">")
        if fmt.count("<") != fmt.count(">") + 0:
            return None
    up = fmt.upper()
    if up in ("STRING",):
        return "string"
    if up in ("INT", "INT32", "INTEGER"):
        return "int32"
    if up in ("BIGINT", "INT64", "LONG"):
        return "int64"
    if up in ("DOUBLE", "FLOAT"):
        return "double"
    if up in ("BOOLEAN", "BOOL"):
        return "boolean"
    if up in ("DATETIME", "TIMESTAMP"):
        return "datetime"
    m = re.match(r"(?is)^ARRAY\s*<(.*)>$", fmt)
    if m:
        inner = parse_format(m.group(1))
        return None if inner is None else f"list<{inner}>"
    m = re.match(r"(?is)^STRUCT\s*<(.*)>$", fmt)
    if m:
        fields = []
        for part in split_top(m.group(1)):
            if ":" not in part:
                return None
            name, t = part.split(":", 1)
            inner = parse_format(t)
            if inner is None:
                return None
            fields.append(f"{name.strip()}: {inner}")
        return "struct<" + ", ".join(fields) + ">" if fields else None
    return None


def recase(name, pascal):
    return name[0].upper() + name[1:] if pascal else name[0].lower() + name[1:]


def recase_type(t, pascal):
    """Applies the table's key casing to a documented nested type."""
    return re.sub(r"(\w+)(\s*:)", lambda m: recase(m.group(1), pascal) + m.group(2), t)


def documented_type(col, pascal):
    t = col["type"]
    fmt = col.get("format")
    if fmt:
        parsed = parse_format(fmt)
        if parsed:
            # An enum documented as INT32 arrives as text in every published row.
            parsed = re.sub(r"(?i)(contentType\s*:\s*)int32", r"\1string", parsed)
            return recase_type(parsed, pascal)
    return {"string": "string", "boolean": "boolean", "int32": "int32", "int64": "int64",
            "double": "double", "datetime": "datetime", "array": "list<string>",
            "object": "json"}.get(t, "string")


def shape_type(shape, fallback):
    """The type that real rows show, using the documented type where the rows say nothing."""
    kinds = shape.kinds - {"null"}
    if not kinds:
        return fallback
    if kinds == {"struct"}:
        doc_fields = {}
        m = re.match(r"^struct<(.*)>$", fallback or "")
        if m:
            for part in split_top(m.group(1)):
                n, t = part.split(":", 1)
                doc_fields[n.strip().lower()] = (n.strip(), t.strip())
        if not shape.fields:
            return fallback if fallback.startswith("struct<") else "json"
        fields = []
        for k, sub in shape.fields.items():
            fb = doc_fields.get(k.lower(), (k, "string"))[1]
            fields.append(f"{k}: {shape_type(sub, fb)}")
        # Keep documented fields the samples never showed, so real rows that carry them fit.
        seen = {k.lower() for k in shape.fields}
        for low, (n, t) in doc_fields.items():
            if low not in seen:
                fields.append(f"{n}: {t}")
        return "struct<" + ", ".join(fields) + ">"
    if kinds == {"list"}:
        m = re.match(r"^list<(.*)>$", fallback or "")
        inner_fb = m.group(1) if m else "string"
        return f"list<{shape_type(shape.item, inner_fb)}>"
    if kinds == {"string"}:
        return fallback if fallback in ("datetime", "string") else "string"
    if kinds <= {"int64"}:
        return fallback if fallback in ("int32", "int64", "double") else "int64"
    if kinds <= {"int64", "double"}:
        return "double"
    if kinds == {"boolean"}:
        return "boolean"
    return "json"


ENVELOPE = [
    ("ODataType", "string"),
    ("puser", "string"),
    ("ptenant", "string"),
    ("pAdditionalInfo", "string"),
    ("datarow", "int64"),
    ("userrow", "int64"),
    ("pagerow", "int64"),
    ("rowinformation", "struct<errorInformation: string, userReturnedNoData: boolean, "
                       "isUserSummaryRow: boolean, userHasCompleteData: boolean>"),
]

tables = {}
for name, ds in sorted(docs.items()):
    sample = ref / "samples" / f"BasicDataSet_v0.{name}.json"
    rows = read_rows(sample) if sample.exists() else []
    # Nested keys follow the casing of the table's own top-level keys.
    pascal = ds["columns"][0]["name"][:1].isupper()
    if rows:
        pascal = list(rows[0].keys())[0][:1].isupper()
    shapes = {}
    for r in rows:
        for k, v in r.items():
            shapes.setdefault(k, Shape()).add(v)
    by_lower = {k.lower(): k for k in shapes}
    donor = SHAPE_DONORS.get(name)
    if donor and not rows:
        donor_rows = read_rows(ref / "samples" / f"BasicDataSet_v0.{donor}.json")
        donor_shapes = {}
        for r in donor_rows:
            for k, v in r.items():
                donor_shapes.setdefault(k.lower(), Shape()).add(v)
        donor_docs = {c["name"].lower(): c for c in docs[donor]["columns"]}
    columns = []
    for col in ds["columns"]:
        real = by_lower.get(col["name"].lower(), col["name"])
        fb = documented_type(col, pascal)
        t = shape_type(shapes[real], fb) if real in shapes else fb
        low = col["name"].lower()
        if donor and not rows and low in donor_shapes:
            # The donor's own documented type is the better fallback: this table's
            # documentation is sometimes wrong (recipients documented as one struct).
            donor_fb = documented_type(donor_docs[low], pascal) if low in donor_docs else fb
            t = shape_type(donor_shapes[low], donor_fb)
        columns.append({"name": real, "type": t})
    present = {c["name"].lower() for c in columns}
    for n, t in ENVELOPE:
        if n.lower() not in present:
            columns.append({"name": n, "type": t})
    filters = [by_lower.get(c["name"].lower(), c["name"]) for c in ds["columns"]
               if c.get("dateFilter")]
    if filters:
        date_filter = "column"
    elif name in WINDOW_ONLY:
        date_filter = "window"
    else:
        date_filter = "none"
    table = RENAMES.get(name, name)
    tables[f"BasicDataSet_v0.{table}"] = {
        "scope": "group" if name in GROUP_SCOPED else "user",
        "dateFilter": date_filter,
        "dateFilterColumns": filters,
        "keyCase": "pascal" if pascal else "camel",
        "source": ds["source"],
        "columns": columns,
    }
    if table != name:
        tables[f"BasicDataSet_v0.{table}"]["aliases"] = [f"BasicDataSet_v0.{name}"]

out.write_text(json.dumps({"tables": tables}, indent=1) + "\n")
print(f"{len(tables)} tables written to {out}")
