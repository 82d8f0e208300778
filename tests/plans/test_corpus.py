"""A corpus of register exports shaped like the ones councils really have (case-management reports
with title rows, merged heading cells, hidden columns, their own headings and spellings, Windows
and "Unicode Text" encodings), each with the reading a careful person would give it."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook

from audit_workflow.plans.parsing import ImportResult, PlanRow, parse_plan_file


def csv_bytes(rows, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def problems(result: ImportResult) -> list[str]:
    return [str(problem) for problem in result.problems]


# A case-management caseload report: two title rows and a blank row above the headings, its own
# headings (NC year for the key stage, Case Team for the writers), everyday spellings, a column
# the service does not use, trailing spaces, a blank row, and Windows-1252 (St Mary’s).
CASELOAD_REPORT = [
    ["SEN Caseload Report - all open EHCPs", "", "", "", "", "", "", ""],
    ["Run by the SEN team on 01/10/2026 at 07:02", "", "", "", "", "", "", ""],
    ["", "", "", "", "", "", "", ""],
    ["Person ID", "NC Year", "Establishment Name", "Establishment Type", "Primary SEN Type", "Plan Type", "Case Team",
     "Date Issued"],
    ["100234", "3", "St Mary’s Catholic Primary School ", "Academy - Mainstream", "Autistic Spectrum Disorder",
     "Annual Review", "SEN North ", "12/03/2024"],
    ["100235", "R", "Little Acorns Pre-school", "Early years provider", "Speech, Language and Communication Needs",
     "New EHCP", "SEN North", "01/09/2026"],
    ["", "", "", "", "", "", "", ""],
    ["100240", "12", "Oakfield Specialist College", "Specialist post-16 institution", "Profound & Multiple Learning Difficulty",
     "Amendment", "SEN South", "05/05/2023"],
    ["100241", "Year 09", "Hillside Special School", "LA maintained special", "Social, Emotional and Mental Health",
     "Annual Review", "SEN South", "17/11/2022"],
    ["100242", "14", "Moor Lane College", "FE college", "Moderate learning difficulties", "Annual Review", "SEN East",
     "02/02/2021"],
    ["100243", "Key stage 5", "Ashgrove Special Academy", "Free School - Special", "Down's syndrome", "Annual Review",
     "SEN East", "08/08/2020"],
    ["100244", "Y8", "Northgate PRU", "Alternative Provision / PRU", "SEMH", "Annual Review", "SEN East", "09/09/2025"],
]
CASELOAD_READING = [
    PlanRow(5, "100234", "KS2", "St Mary’s Catholic Primary School", "mainstream_academy_free", "ASD", "annual_review", "SEN North"),
    PlanRow(6, "100235", "EYFS", "Little Acorns Pre-school", "early_years", "SLCN", "new", "SEN North"),
    PlanRow(8, "100240", "KS5", "Oakfield Specialist College", "post16_specialist", "PMLD", "amended", "SEN South"),
    PlanRow(9, "100241", "KS3", "Hillside Special School", "special_maintained", "SEMH", "annual_review", "SEN South"),
    PlanRow(10, "100242", "KS5", "Moor Lane College", "post16_fe_college", "MLD", "annual_review", "SEN East"),
    PlanRow(11, "100243", "KS5", "Ashgrove Special Academy", "special_academy_free", "DS", "annual_review", "SEN East"),
    PlanRow(12, "100244", "KS3", "Northgate PRU", "ap_pru", "SEMH", "annual_review", "SEN East"),
]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_a_caseload_report_with_title_rows_and_its_own_headings_and_spellings(encoding):
    result = parse_plan_file("SEN caseload.csv", csv_bytes(CASELOAD_REPORT, encoding))
    assert problems(result) == []
    assert result.rows == CASELOAD_READING
    assert result.heading_row == 4 and result.where_read() == "Headings on row 4"
    assert result.ignored_columns == ("Date Issued",)
    assert result.mapping_used() == {
        "system_id": "Person ID", "year_group": "NC Year", "setting_name": "Establishment Name",
        "setting_type": "Establishment Type", "primary_need": "Primary SEN Type", "plan_type": "Plan Type",
        "writer_team": "Case Team"}


def test_excel_unicode_text_utf16_tab_separated():
    data = "\ufeff".encode("utf-16-le") + csv_bytes(CASELOAD_REPORT, "utf-16-le", delimiter="\t")
    result = parse_plan_file("caseload.txt", data)
    assert problems(result) == [] and result.rows == CASELOAD_READING


def test_utf16_big_endian_and_without_a_byte_order_mark():
    for data in ("\ufeff".encode("utf-16-be") + csv_bytes(CASELOAD_REPORT, "utf-16-be", "\t"),
                 csv_bytes(CASELOAD_REPORT, "utf-16-le", "\t")):
        assert parse_plan_file("caseload.csv", data).rows == CASELOAD_READING


def placement_workbook(hidden_heading: str = "Notes", hidden_value: str = "chased 3 times") -> Workbook:
    """An EHC register workbook: a notes sheet first, then the register under a merged title, a row
    of merged group headings, a heading merged down two rows, a hidden column, long DfE names."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Read me"
    notes.append(["This workbook lists every open EHC plan."])
    notes.append(["Contact the SEN team with questions."])
    sheet = workbook.create_sheet("EHCP register")
    sheet.append(["EHC plan register (pseudonymised)"])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["Case ID", None, "Placement", None, "Plan", None, None, None])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("C3:D3")
    sheet.merge_cells("E3:G3")
    sheet.append([None, "Key Stage", "Setting", "Setting Type", "Primary Need", "Plan Status", "Team", hidden_heading])
    sheet.column_dimensions["H"].hidden = True
    long_name = "The Queen Elizabeth II Jubilee School for Pupils with Profound and Multiple Learning Difficulties"
    sheet.append(["LL-20931", "Key Stage 1", long_name, "Special school (non-maintained)",
                  "Profound and multiple learning difficulties", "AR", "Locality West", hidden_value])
    sheet.append([20932, "KS3", "Castle Hill Secondary", "Mainstream school (maintained)", "Specific learning difficulty (dyslexia)",
                  "Initial plan", "Locality West", hidden_value])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["LL-20935", "Post-19", "Vale Sixth Form College", "General FE and tertiary college",
                  "ASD - Autistic Spectrum Disorder", "Annual review", "Locality East", hidden_value])
    return workbook


def test_a_workbook_with_a_notes_sheet_merged_headings_and_a_hidden_column():
    result = parse_plan_file("register.xlsx", workbook_bytes(placement_workbook()))
    assert problems(result) == []
    assert (result.sheet, result.heading_row, result.sheets) == ("EHCP register", 4, ("Read me", "EHCP register"))
    assert result.where_read() == 'Headings on row 4 of sheet "EHCP register"'
    assert result.rows == [
        PlanRow(5, "LL-20931", "KS1",
                "The Queen Elizabeth II Jubilee School for Pupils with Profound and Multiple Learning Difficulties",
                "special_independent_non_maintained", "PMLD", "annual_review", "Locality West"),
        PlanRow(6, "20932", "KS3", "Castle Hill Secondary", "mainstream_maintained", "SPLD", "new", "Locality West"),
        PlanRow(8, "LL-20935", "POST19", "Vale Sixth Form College", "post16_fe_college", "ASD", "annual_review",
                "Locality East"),
    ]
    assert result.ignored_columns == ("Notes",)  # hidden, but read: the coordinator is told it was not used


def test_a_hidden_column_of_personal_data_still_refuses_the_file():
    result = parse_plan_file("register.xlsx", workbook_bytes(placement_workbook("Forename", "Zebedee")))
    assert result.rows == [] and not result.needs_mapping
    assert problems(result) == ['Column "Forename" (column H) looks like personal data: the service never holds '
                                "anyone's name; remove the column and import again"]


def test_a_column_whose_values_are_names_with_dates_of_birth_refuses_the_file_without_showing_them():
    workbook = placement_workbook("Extra", "Zebedee Quxley 03/04/2015")
    result = parse_plan_file("register.xlsx", workbook_bytes(workbook))
    assert result.rows == []
    assert problems(result) == ['Column "Extra" (column H) looks like personal data: the service never holds a name '
                                "with a date, going by its values; remove the column and import again"]
    assert "Quxley" not in str(result.problems) and all(not column.samples for column in result.columns
                                                        if column.heading == "Extra")


def test_the_sheet_the_coordinator_picks_is_read():
    workbook = placement_workbook()
    assert "no sheet" in problems(parse_plan_file("r.xlsx", workbook_bytes(workbook), sheet="Plans"))[0]
    result = parse_plan_file("r.xlsx", workbook_bytes(workbook), sheet="read me")
    assert result.sheet == "Read me" and result.rows == []


@pytest.mark.parametrize("values, expected", [
    (["100", "KS2", "", "Academy", "ASD"], 'Row 2, column "Setting type": "Academy" is not a setting type: did you mean '
                                          "Mainstream school: academy or free school, Special school: academy or free "
                                          "school or Alternative provision or pupil referral unit? Map it to the right "
                                          "one in the import, or correct the file"),
    (["100", "KS2", "", "Special school", "ASD"], 'Row 2, column "Setting type": "Special school" is not a setting '
                                                 "type: did you mean Special school: LA-maintained, Special school: "
                                                 "academy or free school or Special school: independent or "
                                                 "non-maintained? Map it to the right one in the import, or correct the file"),
    (["100", "KS2", "", "Independent school", "ASD"], None),
    (["100", "KS2", "", "Free school", "ASD"], None),
])
def test_phrases_that_could_mean_two_types_are_asked_about_naming_labels_never_codes(values, expected):
    result = parse_plan_file("r.csv", csv_bytes([["ID", "KS", "School", "Setting type", "Need"], values]))
    assert result.rows == [] and len(result.problems) == 1 and len(result.unknown_spellings) == 1
    if expected:
        assert problems(result) == [expected]
    assert "_" not in problems(result)[0]  # no slug such as special_academy_free


def test_an_unknown_value_is_named_once_with_the_rows_it_is_on():
    rows = [["ID", "KS", "Setting type", "Need"]]
    rows += [[f"P-{number}", "KS3", "Academy" if number % 3 else "Special academy", "ASD"] for number in range(1, 41)]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert problems(result) == [
        'Column "Setting type" has "Academy" on 27 rows (2, 3, 5, …), which is not a setting type: did you mean '
        "Mainstream school: academy or free school, Special school: academy or free school or Alternative provision or "
        "pupil referral unit? Map it to the right one in the import, or correct the file"]
    assert result.unknown_spellings[0].rows[:3] == (2, 3, 5) and len(result.unknown_spellings[0].rows) == 27
    mapped = parse_plan_file("r.csv", csv_bytes(rows), values={"setting_type": {"academy": "mainstream_academy_free"}})
    assert mapped.problems == [] and len(mapped.rows) == 40
    assert {row.setting_type for row in mapped.rows} == {"mainstream_academy_free", "special_academy_free"}


@pytest.mark.parametrize("ages, expected", [
    (["12", "Aged 17", "11-14", "3"], ["KS3", "KS5", "KS3", "EYFS"]),
])
def test_an_age_column_reads_as_key_stages(ages, expected):
    rows = [["ID", "Age", "Setting type", "Need"]] + [[f"P-{n}", age, "PRU", "ASD"] for n, age in enumerate(ages)]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert [row.key_stage for row in result.rows] == expected


def test_an_age_on_the_boundary_of_two_key_stages_is_refused_with_the_reason():
    result = parse_plan_file("r.csv", csv_bytes([["ID", "Age", "Setting type", "Need"], ["P-1", "11", "PRU", "ASD"]]))
    assert problems(result) == ['Row 2, column "Age": age 11 could be Key stage 2 or Key stage 3, depending on the month '
                                "of birth; give the key stage or year group"]


def test_a_key_stage_column_wins_over_a_year_group_column():
    rows = [["ID", "Key stage", "Year group", "Setting type", "Need"], ["P-1", "KS4", "10", "PRU", "ASD"]]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert result.rows[0].key_stage == "KS4" and result.ignored_columns == ("Year group",)


PERSONAL_IN_A_CELL = [
    ("setting_name", "Oak Primary - Zebedee Quxley 03/04/2015", "a name with a date"),
    ("setting_name", "Oak Primary 03/04/2015", "a date"),
    ("writer_team", "SEN North B801200005001", "a UPN"),
    ("writer_team", "Zebedee's mum 07700 900123", "a phone number"),
    ("setting_name", "Home, SW1A 1AA", "an address or postcode"),
    ("system_id", "Zebedee Quxley", None),
    ("system_id", "03/04/2015", "a date"),
    ("setting_type", "Zebedee Quxley 03/04/2015", "a name with a date"),
]


@pytest.mark.parametrize("field, value, found", PERSONAL_IN_A_CELL)
def test_personal_data_in_any_cell_is_refused_naming_row_and_column_but_not_the_value(field, value, found):
    row = {"system_id": "P-1", "key_stage": "KS2", "setting_name": "Oak Primary", "setting_type": "PRU",
           "primary_need": "ASD", "writer_team": "SEN North", field: value}
    headings = ["System ID", "Key stage", "Setting name", "Setting type", "Primary need", "Writer team"]
    result = parse_plan_file("r.csv", csv_bytes([headings, [row[name] for name in
                                                            ("system_id", "key_stage", "setting_name", "setting_type",
                                                             "primary_need", "writer_team")]]))
    assert result.rows == [] and len(result.problems) == 1
    problem = result.problems[0]
    assert problem.row == 2 and problem.column == headings[list(row).index(field)]
    assert value not in str(problem) and "Quxley" not in str(problem) and "2015" not in str(problem)
    if found:
        assert f"looks like personal data ({found})" in problem.message


def test_a_file_name_with_a_name_and_a_date_of_birth_is_refused():
    result = parse_plan_file("Zebedee Quxley 03-04-2015.csv", csv_bytes([["ID"], ["P-1"]]))
    assert problems(result) == ["The file's name looks like it holds personal data (a name with a date); rename the "
                                "file and import it again"]


def test_system_ids_must_look_like_identifiers():
    rows = [["ID", "KS", "Setting type", "Need"], ["P 1", "KS2", "PRU", "ASD"], ["<a href=x>1</a>", "KS2", "PRU", "ASD"],
            ["NM/2024/0031", "KS2", "PRU", "ASD"]]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert [row.system_id for row in result.rows] == ["NM/2024/0031"]
    assert [(problem.row, problem.column) for problem in result.problems] == [(2, "ID"), (3, "ID")]
    assert all("not an identifier" in problem.message and "href" not in problem.message for problem in result.problems)


def test_duplicate_ids_after_trimming_are_refused():
    rows = [["ID", "KS", "Setting type", "Need"], ["P-1 ", "KS2", "PRU", "ASD"], [" P-1", "KS3", "PRU", "ASD"]]
    assert problems(parse_plan_file("r.csv", csv_bytes(rows))) == [
        'Row 3, column "ID": "P-1" is also in row 2; each plan must be in the file once']


def test_a_heading_that_could_be_two_columns_needs_mapping_and_the_mapping_settles_it():
    rows = [["Ref", "Stage", "Type", "Primary need"], ["P-1", "KS2", "Special academy", "ASD"]]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert result.needs_mapping and result.rows == []
    assert 'Column "Type" (column C) could be Plan type or Setting type' in problems(result)[1]
    type_column = next(column for column in result.columns if column.heading == "Type")
    assert type_column.candidates == ("plan_type", "setting_type") and type_column.samples == ("Special academy",)
    mapped = parse_plan_file("r.csv", csv_bytes(rows), columns={"type": "setting_type", "stage": "key_stage"})
    assert mapped.problems == [] and mapped.rows[0].setting_type == "special_academy_free"


def test_samples_are_at_most_three_and_never_from_a_column_that_may_hold_personal_data():
    rows = [["Ref", "Stage", "Type", "Primary need", "Remarks"]]
    rows += [[f"P-{n}", "KS2", "Academy", "ASD", "seen 03/04/2015" if n == 7 else f"remark {n}"] for n in range(10)]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    samples = {column.heading: column.samples for column in result.columns}
    assert samples["Ref"] == ("P-0", "P-1", "P-2") and samples["Type"] == ("Academy",)
    assert samples["Remarks"] == ()


def word_file(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    return out.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize("filename, data, expected", [
    ("register.xlsx", word_file("word/document.xml"), "is a Word document (.docx)"),
    ("register.csv", word_file("word/document.xml"), "is a Word document (.docx)"),
    ("register.csv", OLE + "Workbook".encode("utf-16-le"), "old Excel 97-2003 format (.xls)"),
    ("register.xlsx", OLE + "Workbook".encode("utf-16-le"), "old Excel 97-2003 format (.xls)"),
    ("register.csv", OLE + "WordDocument".encode("utf-16-le"), "old Word document (.doc)"),
    ("register.xlsx", b"<html><table><tr><td>ID</td></tr></table></html>", "a web page or XML"),
    ("register.csv", b"%PDF-1.7 ...", "is a PDF"),
])
def test_a_renamed_file_gets_the_right_message(filename, data, expected):
    result = parse_plan_file(filename, data)
    assert len(result.problems) == 1 and expected in result.problems[0].message, problems(result)


def test_a_file_that_needs_mapping_with_personal_data_in_a_cell_is_refused_not_kept_for_mapping():
    rows = [["Ref", "Stage", "Type", "Primary need", "Team"], ["P-1", "KS2", "PRU", "ASD", "SEN North"],
            ["P-2", "KS2", "PRU", "ASD", "Zebedee Quxley 03/04/2015"]]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert not result.needs_mapping and result.rows == []
    assert problems(result) == ['Row 3, column "Team": looks like personal data (a name with a date), which the service '
                                "never holds; remove it from the file (the value is not shown here)"]


def test_a_team_column_the_service_does_not_recognise_is_asked_about_not_dropped():
    rows = [["ID", "KS", "Setting type", "Need", "Keyworker Team"], ["P-1", "KS2", "PRU", "ASD", "SEN North"]]
    result = parse_plan_file("r.csv", csv_bytes(rows))
    assert result.needs_mapping and problems(result) == [
        'Column "Keyworker Team" (column E) could be Writer team or Not used; say which in the mapping step (or with '
        "--map on the command line)"]
    both = parse_plan_file("r.csv", csv_bytes([row + [team] for row, team in zip(rows, ["Team", "SEN South"])]))
    assert both.problems == [] and both.rows[0].writer_team == "SEN South" and both.ignored_columns == ("Keyworker Team",)
