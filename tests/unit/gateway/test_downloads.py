from services.gateway.web.downloads import attachment


def test_the_file_name_cannot_break_or_inject_headers():
    headers = attachment('activity-x"\r\nSet-Cookie: a=b\x10é', "csv")
    disposition = headers["Content-Disposition"]
    assert disposition == 'attachment; filename="activity-x___Set-Cookie__a_b__.csv"'
    assert all(32 <= ord(ch) < 127 for ch in disposition)
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
