"""`plexus import` against the running suite: good rows are imported, batches in flight
side by side, each bad row is listed with its line and reason in file order, and the
summary counts add up."""

import csv
import uuid


def test_import_a_csv_with_bad_rows(own_suite, tmp_path):
    # A suite of its own: the 1,960 contacts' events keep activity and segments busy for
    # a minute or two, which tests timing other events must not wait behind.
    suite = own_suite
    http = suite.http()
    tag = uuid.uuid4().hex[:6]
    assert (
        http.post(
            suite.url + "/v1/variables",
            timeout=15,
            json={"name": f"seats_{tag}", "type": "number", "scope": "contact"},
        ).status_code
        == 201
    )
    rows, bad_lines = [], {}
    for i in range(2000):
        row = {
            "E-mail": f"imp-{tag}-{i}@example.com",
            "first_name": f"N{i}",
            "address.city": "Lviv",
            f"variables.seats_{tag}": str(i % 7),
            "comment": "x",
        }
        line = i + 2  # the header is line 1
        if i % 100 == 10:
            row["E-mail"], bad_lines[line] = "not-an-email", "email"
        elif i % 100 == 50:
            row[f"variables.seats_{tag}"], bad_lines[line] = "many", f"variables.seats_{tag}"
        rows.append(row)
    path = tmp_path / "people.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    done = suite.plexus(
        "import",
        str(path),
        "--key",
        suite.key,
        "--url",
        suite.url,
        "--map",
        "E-mail=email",
        "--batch-size",
        "250",
        "--parallel",
        "4",
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "2000 rows" in done.stdout and "1960 created, 0 updated, 40 rejected" in done.stdout
    assert "ignored columns" in done.stderr and "comment" in done.stderr

    with open(tmp_path / "people.rejected.csv", newline="") as handle:
        in_order = [(int(r["line"]), r["errors"]) for r in csv.DictReader(handle)]
    assert [line for line, _ in in_order] == sorted(bad_lines)  # file order, all of them
    rejected = dict(in_order)
    for line, field in bad_lines.items():
        assert rejected[line].startswith(field + ":"), rejected[line]

    found = http.get(
        suite.url + "/v1/contacts", timeout=15, params={"email": f"imp-{tag}-1999@example.com"}
    ).json()["data"]
    assert found[0]["address"]["city"] == "Lviv"
    assert found[0]["variables"][f"seats_{tag}"] == 1999 % 7
    assert found[0]["created_via"] == "import"

    again = suite.plexus(
        "import", str(path), "--key", suite.key, "--url", suite.url, "--map", "E-mail=email"
    )
    assert "0 created, 1960 updated, 40 rejected" in again.stdout, again.stdout
