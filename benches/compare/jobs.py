"""The reference jobs R1-R3 of issue 7 in DuckDB and in Polars, one job per process.

    python jobs.py ENGINE JOB TENANT_DIR OUT_FILE      (ENGINE duckdb|polars, JOB r1|r2|r3)

TENANT_DIR is `mdflow tenant generate --out` output; OUT_FILE gets JSON Lines. Each engine
reads the same files as the mdflow data flows in factory/dataflow/ and computes the same
columns; compare.py checks that the rows agree.
"""
import sys

START, END = "2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"


def duckdb_job(job, messages, users, out):
    import duckdb

    con = duckdb.connect()
    src = f"read_json_auto('{messages}', format='newline_delimited')"
    # DuckDB may detect receivedDateTime as a TIMESTAMP; the other engines keep the text.
    kind = con.sql(f"SELECT typeof(receivedDateTime) FROM {src} LIMIT 1").fetchall()[0][0]
    received = (
        "receivedDateTime"
        if kind == "VARCHAR"
        else "strftime(receivedDateTime, '%Y-%m-%dT%H:%M:%SZ')"
    )
    domain = "lower(string_split(sender.emailAddress.address, '@')[-1])"
    if job == "r1":
        query = f"""
            SELECT id, puser, {received} AS receivedDateTime, importance, hasAttachments,
                   lower(subject) AS subjectLower, {domain} AS senderDomain,
                   len(toRecipients) + len(ccRecipients) + len(bccRecipients)
                       AS recipientCount
            FROM (SELECT *, {received} AS r FROM {src})
            WHERE r >= '{START}' AND r < '{END}' AND importance <> 'low'"""
    elif job == "r2":
        query = f"""
            SELECT {domain} AS senderDomain, left({received}, 10) AS day,
                   count(*) AS messages, sum(strlen(body.content)) AS bodyBytes
            FROM {src} GROUP BY ALL"""
    else:
        query = f"""
            SELECT u.department, count(*) AS messages
            FROM {src} m
            JOIN read_json_auto('{users}', format='newline_delimited') u ON m.puser = u.id
            GROUP BY ALL"""
    con.sql(f"COPY ({query}) TO '{out}' (FORMAT JSON)")


def polars_job(job, messages, users, out):
    import polars as pl

    m = pl.scan_ndjson(messages, infer_schema_length=None)
    domain = (
        pl.col("sender").struct.field("emailAddress").struct.field("address")
        .str.split("@").list.last().str.to_lowercase().alias("senderDomain")
    )
    if job == "r1":
        frame = m.filter(
            (pl.col("receivedDateTime") >= START)
            & (pl.col("receivedDateTime") < END)
            & (pl.col("importance") != "low")
        ).select(
            "id", "puser", "receivedDateTime", "importance", "hasAttachments",
            pl.col("subject").str.to_lowercase().alias("subjectLower"),
            domain,
            (
                pl.col("toRecipients").list.len()
                + pl.col("ccRecipients").list.len()
                + pl.col("bccRecipients").list.len()
            ).alias("recipientCount"),
        )
    elif job == "r2":
        frame = m.group_by(domain, pl.col("receivedDateTime").str.slice(0, 10).alias("day")).agg(
            pl.len().alias("messages"),
            pl.col("body").struct.field("content").str.len_bytes().sum().alias("bodyBytes"),
        )
    else:
        u = pl.scan_ndjson(users, infer_schema_length=None).select(
            pl.col("id").alias("userId"), "department"
        )
        frame = (
            m.select("puser").join(u, left_on="puser", right_on="userId")
            .group_by("department").agg(pl.len().alias("messages"))
        )
    frame.sink_ndjson(out)


if __name__ == "__main__":
    engine, job, tenant, out = sys.argv[1:5]
    messages = f"{tenant}/BasicDataSet_v0.Message_v1/part-00000.json"
    users = f"{tenant}/BasicDataSet_v0.User_v1/part-00000.json"
    {"duckdb": duckdb_job, "polars": polars_job}[engine](job, messages, users, out)
