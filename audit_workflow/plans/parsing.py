"""Reading a plan register file (CSV or Excel .xlsx) into checked rows, with every problem listed.

Pure: bytes in, an ImportResult out, and parse_plan_file never raises, whatever the bytes. The
caller refuses a file with any problem, so all of them are reported at once, each with its
spreadsheet row number and the column heading as the file spells it.

Files come from case-management systems, so the heading row is looked for in the first rows of
the first sheet that has plans (title rows above it are skipped), headings are matched against a
broad list of aliases, and values by words (vocabulary.Vocabulary). What cannot be read for sure
is asked, not guessed: a heading that could be two columns, a missing required column, or a value
that is not an accepted spelling. The coordinator's answers come back in as `columns` and
`values` (remembered per LA by the service).

The register holds pseudonymous System IDs only. A file with a column that looks like personal data
(a name, date of birth, UPN, NHS number, address or contact details, by its heading or its values)
is refused before any row is read, and every free-text value (System ID, setting name, team) goes
through the privacy guard. Problems never repeat a value that may be personal data.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..notifications.privacy import personal_data_in
from ..vocabulary import UnknownValue, Vocabulary, match_key, word_key
from .reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES, key_stage_for_age

MAX_FILE_BYTES = 20 * 1024 * 1024  # the web upload limit
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # an .xlsx is a zip: refuse one that would unpack to more
MAX_ROWS = 250_000  # over ten times the largest LA's register
MAX_COLUMNS = 200
HEADING_SEARCH_ROWS = 20  # the heading row is looked for in this many rows at the top of a sheet
SAMPLE_ROWS = 200  # rows read to show samples and to look for personal data in columns not used
SAMPLES_SHOWN = 3
ROWS_NAMED = 3  # an unknown value names its first few rows, then "…"
IGNORE = ""  # the field a column is mapped to when the coordinator says it is not used


class PlanRow(NamedTuple):
    """A checked row. A NamedTuple rather than a frozen dataclass: as immutable, and about three
    times faster to build, which shows on a 100,000-row register."""

    row_number: int
    system_id: str
    key_stage: str
    setting_name: str | None
    setting_type: str
    primary_need: str
    plan_type: str
    writer_team: str | None


@dataclass(frozen=True)
class RowProblem:
    """A problem (or a flag) in a file. With a row it reads 'Row 17, column "Primary need": <message>';
    with a column but no row (a problem with the headings, or a value on several rows) the message
    continues the sentence 'Column "Date of birth" <message>'; with neither, the message is about
    the whole file."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f'Column "{self.column}" {self.message}' if self.column else self.message
        where = f'Row {self.row}, column "{self.column}"' if self.column else f"Row {self.row}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FileColumn:
    """A column of the file as the mapping step shows it."""

    index: int
    heading: str
    field: str | None  # what it is read as; None when not used
    candidates: tuple[str, ...] = ()  # fields it could be, when its heading could name two
    samples: tuple[str, ...] = ()  # a few values; none for a column that may hold personal data
    personal: str | None = None  # the personal data it seems to hold: such a column refuses the file

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)


@dataclass(frozen=True)
class UnknownSpelling:
    """One distinct value of a column that is not an accepted spelling, with every row it is on."""

    field: str
    column: str
    value: str
    rows: tuple[int, ...]
    suggestions: tuple[str, ...]  # the closest labels, best first

    @property
    def key(self) -> str:
        return word_key(self.value)

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """What the value could be mapped to: (code, label as people read it), in table order."""
        vocabulary = _COLUMN_BY_FIELD[self.field].vocabulary
        return tuple((code, vocabulary.shown(code)) for code in vocabulary)


@dataclass(frozen=True)
class ImportResult:
    """The rows that passed every check, the problems (import nothing if there are any), the
    accepted rows worth a second look, and the headings the service has no use for (ignored).
    needs_mapping says a column must be named by the coordinator before rows can be read;
    unknown_spellings are values the coordinator can map, one each for the whole file."""

    rows: list[PlanRow]
    problems: list[RowProblem]
    flagged: list[RowProblem]
    ignored_columns: tuple[str, ...] = ()
    sheet: str | None = None
    heading_row: int | None = None
    columns: tuple[FileColumn, ...] = ()
    needs_mapping: bool = False
    unknown_spellings: tuple[UnknownSpelling, ...] = ()
    sheets: tuple[str, ...] = ()

    def where_read(self) -> str:
        """'Headings on row 4 of sheet "Plans"', for the confirmation and the CLI."""
        if self.heading_row is None:
            return ""
        return f"Headings on row {self.heading_row}" + (f' of sheet "{self.sheet}"' if self.sheet else "")

    def mapping_used(self) -> dict[str, str]:
        """Each column read, as {field: heading as the file spells it}."""
        return {column.field: column.heading for column in self.columns if column.field}


class Unreadable(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


_UPN = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")  # a check letter and 12 digits; a temporary UPN ends in a letter
_EXCEL_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+[0-9]+", re.IGNORECASE)
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-]*")
# IDs that could hold a date, a long number or a postcode get the full privacy guard; the rest
# cannot, and skipping the guard for them keeps a 100,000-row register fast.
_ID_WORTH_A_LOOK = re.compile(r"\d[/\-]\d|\d{9,}|^[A-Za-z]{1,2}\d[A-Za-z\d]?\d[A-Za-z]{2}$")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})  # control, format (zero-width, bidi), separators
_NOT_HELD = "which the service never holds; use the System ID from your case management system"


def _is_nhs_number(digits: str) -> bool:
    """Ten digits whose last is the modulus 11 check digit of the first nine (weights 10 down to 2)."""
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, range(10, 1, -1))) % 11
    return (11 - remainder) % 11 == int(digits[9])  # a check of 10 is never valid, and never equals a digit


def _personal_data_message(found: Sequence[str]) -> str:
    return (f"looks like personal data ({' and '.join(found)}), which the service never holds; remove it from the file "
            "(the value is not shown here)")


def _refuse_personal_data(value: str) -> None:
    """For a value that never needs a date (an ID, a name of a setting or team, a code)."""
    found = personal_data_in(value, dates_allowed=False)
    if found:
        raise ValueError(_personal_data_message(found))


def _check_system_id(value: str) -> None:
    # The length and "+" tests are cheap guards: this runs once for every row.
    if len(value) == 13 and _UPN.fullmatch(value.upper()):
        raise ValueError(f"looks like a unique pupil number (UPN: a letter and 12 digits), {_NOT_HELD}")
    digits = value.replace(" ", "").replace("-", "") if 10 <= len(value) <= 12 else ""
    if len(digits) == 10 and digits.isascii() and digits.isdigit() and _is_nhs_number(digits):
        raise ValueError(f"looks like an NHS number (10 digits with a valid check digit), {_NOT_HELD}")
    if "+" in value and _EXCEL_SCIENTIFIC.fullmatch(value):
        raise ValueError(f'"{value}" is a number Excel has shortened, so the real System ID is lost; '
                         "format the column as text, export the file again and import it")
    if not (value.isascii() and _IDENTIFIER.fullmatch(value)):
        raise ValueError("is not an identifier: a System ID has only letters, digits, \"-\" and \"/\", with no spaces "
                         "(the value is not shown here, in case it is a name)")
    if _ID_WORTH_A_LOOK.search(value):
        _refuse_personal_data(value)


def _refuse_invisible_characters(value: str) -> None:
    for character in value:
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            raise ValueError(f"contains an invisible or control character (U+{ord(character):04X}); retype the value")


def _year_group(value: str) -> str:
    """A year group column's value as a key stage: "7", "Year 7", "R" (reception), "N2" (nursery)."""
    text = value.strip()
    if text.isdigit():
        text = f"Year {text}"
    elif match_key(text) in ("r", "n1", "n2", "n"):
        text = "Reception"
    return KEY_STAGES.normalise(text)


def _age(value: str) -> str:
    code = KEY_STAGES.lookup(value)
    return code if code is not None else key_stage_for_age(value)


@dataclass(frozen=True)
class _Column:
    field: str  # of PlanRow, or a source of one (year_group and age feed key_stage)
    heading: str
    aliases: tuple[str, ...]
    required: bool = False  # the column must be in the file
    default: str | None = None  # when the file has no such column at all
    key: bool = False  # the row's key: no two rows may share it
    vocabulary: Vocabulary | None = None
    reader: Callable[[str], str] | None = None  # for a value no vocabulary spelling matches
    max_length: int = 0  # for free text: the database column's length
    check: Callable[[str], None] | None = None
    feeds: str | None = None  # the PlanRow field it is read into, when not its own

    @property
    def target(self) -> str:
        return self.feeds or self.field

    def clean(self, value: str, spellings: Mapping[str, str]) -> str | None:
        """The value to store, None for an empty optional cell; ValueError says what is wrong, and
        UnknownValue that the value is not a spelling the coordinator has mapped or the service knows."""
        if not value:
            if self.required or self.vocabulary is not None:
                raise ValueError("the cell is empty, but every plan needs one")
            return None
        if not value.isprintable():  # cheap test first: most values are plain text
            _refuse_invisible_characters(value)
        if self.vocabulary is not None:
            code = spellings.get(word_key(value)) or self.vocabulary.lookup(value)
            if code is not None:
                return code
            try:
                if self.reader is not None:  # an age is not personal data in an age column
                    return self.reader(value)
                raise UnknownValue(value)
            except UnknownValue:
                _refuse_personal_data(value)  # before the value is echoed in a problem
                raise
        if len(value) > self.max_length:
            raise ValueError(f"is {len(value)} characters long; the most it can be is {self.max_length}")
        if self.check is not None:
            self.check(value)
        return value


_COLUMNS = (
    _Column("system_id", "System ID", (
        "C/YP ID", "CYP ID", "Child ID", "Person ID", "Case ID", "ID", "Client ID", "Case number", "Case reference",
        "Case ref", "Reference", "Ref", "Record ID", "EHCP ID", "EHC plan ID", "Plan ID", "Plan reference", "Unique ID",
        "Young person ID", "YP ID", "Child or young person ID", "ONE ID", "Mosaic ID", "LL ID", "EHM ID", "Synergy ID",
        "External ID", "Pseudonymous ID"), required=True, key=True, max_length=64, check=_check_system_id),
    _Column("key_stage", "Key stage", ("KS", "NC key stage", "Keystage", "Current key stage", "Key stage (current)",
                                       "Stage of education"),
            required=True, vocabulary=KEY_STAGES),
    _Column("setting_name", "Setting name", (
        "Setting", "School", "School name", "Placement", "Placement name", "Provider", "Provider name", "Establishment",
        "Establishment name", "Education setting", "Current setting", "Current school", "Institution", "Institution name",
        "Base", "Named setting", "Section I setting", "Provision name", "Education provider", "Setting attended",
        "School or setting", "Current placement"), max_length=200, check=_refuse_personal_data),
    _Column("setting_type", "Setting type", (
        "Type of setting", "Placement type", "Provision type", "Establishment type", "Type of establishment",
        "School type", "Institution type", "Setting category", "Establishment category", "Education setting type",
        "Provider type", "Placement category", "Establishment group", "Type of school", "Type of provision",
        "Setting type (DfE)", "SEN2 setting type"), required=True, vocabulary=SETTING_TYPES),
    _Column("primary_need", "Primary need", (
        "Primary SEN", "Primary SEN need", "Need", "SEN2 primary need", "Primary need code", "Primary SEN type",
        "SEN primary need", "Main need", "Primary SEND need", "Primary need type", "Primary type of need",
        "Type of need", "SEN need", "Primary SEN category", "Need type", "Primary need (SEN2)", "Primary SEN need code",
        "Main SEN need", "Primary difficulty"), required=True, vocabulary=PRIMARY_NEEDS),
    _Column("plan_type", "Plan type", ("Plan status", "EHCP type", "Plan category", "Type of plan", "Plan version",
                                       "EHC plan type"),
            default="annual_review", vocabulary=PLAN_TYPES),
    _Column("writer_team", "Writer team", (
        "Writing team", "Team", "Team name", "Plan writer team", "Case officer team", "Case team", "Casework team",
        "Caseworker team", "SEN team", "SEND team", "Locality team", "Area team", "Owning team", "Allocated team",
        "Responsible team", "Worker team", "Plan coordinator team", "EHC team", "Officer team", "Plan writer's team",
        "Caseload team"), max_length=120, check=_refuse_personal_data),
    _Column("year_group", "Year group", ("NC year", "NCY", "National curriculum year", "Year", "School year",
                                         "Curriculum year", "Year of education", "Actual NCY", "Current year group",
                                         "Year group (NCY)"),
            vocabulary=KEY_STAGES, reader=_year_group, feeds="key_stage"),
    _Column("age", "Age", ("Age band", "Age group", "Age range", "Current age", "Age at 31 August", "Age (years)",
                           "Age in years"),
            vocabulary=KEY_STAGES, reader=_age, feeds="key_stage"),
)
_COLUMN_BY_FIELD = {column.field: column for column in _COLUMNS}
_PLAN_FIELDS = PlanRow._fields[1:]
# Headings that could name two columns: asked about unless the file has the other one already.
AMBIGUOUS_HEADINGS: dict[str, tuple[str, ...]] = {
    "type": ("plan_type", "setting_type"),
    "provision": ("setting_name", "setting_type"),
    "stage": ("key_stage", "plan_type"),
    "status": ("plan_type", IGNORE),
    "locality": ("writer_team", IGNORE),
    "area": ("writer_team", IGNORE),
}


def field_label(field_name: str) -> str:
    """A field as coordinators read it: "Writer team"; "Not used" for IGNORE."""
    return _COLUMN_BY_FIELD[field_name].heading if field_name else "Not used"


# What a column can be mapped to, for the mapping step's select boxes and the CLI's --map.
FIELD_CHOICES: tuple[tuple[str, str], ...] = (*((column.field, column.heading) for column in _COLUMNS), (IGNORE, "Not used"))


def field_for(text: str) -> str | None:
    """The field a coordinator names ("writing team", "Case team", "ignore"), or None."""
    key = match_key(text)
    if key in ("notused", "ignore", "ignored", "none", "skip"):
        return IGNORE
    column = _COLUMN_BY_KEY.get(key)
    return column.field if column else None


def _columns_by_key() -> dict[str, _Column]:
    # Headings match exactly (after case and punctuation), so "Type of need" is the primary need
    # and "Type of setting" the setting type, however loosely each is written.
    by_key: dict[str, _Column] = {}
    for column in _COLUMNS:
        for heading in (column.heading, column.field, *column.aliases):
            if by_key.setdefault(match_key(heading), column) is not column:
                raise ValueError(f"The heading {heading!r} would name two columns")
    if set(by_key) & set(AMBIGUOUS_HEADINGS):
        raise ValueError("A heading is both an alias and ambiguous")
    return by_key


_COLUMN_BY_KEY = _columns_by_key()


@dataclass(frozen=True)
class _PersonalData:
    what: str  # completes "the service never holds ..."
    terms: tuple[str, ...]  # matched as whole words of the heading, or as the whole heading run together
    organisations_have_it: bool = False  # "School name" and "Setting address" are not about a person


_PERSONAL_DATA = (
    _PersonalData("anyone's name", (
        "name", "names", "forename", "forenames", "surname", "firstname", "lastname", "fullname", "givenname",
        "familyname", "middlename", "childname", "pupilname", "known as", "initials"), organisations_have_it=True),
    _PersonalData("a child's date of birth", ("date of birth", "birth date", "dob", "birthday", "born")),
    _PersonalData("a unique pupil number (UPN) or unique learner number (ULN)", (
        "upn", "unique pupil number", "uln", "unique learner number")),
    _PersonalData("an NHS number", ("nhs number", "nhs no", "nhs num", "nhs id")),
    _PersonalData("a home address or postcode", ("address", "postcode", "post code", "street", "zip code"),
                  organisations_have_it=True),
    _PersonalData("anyone's email address or phone number", ("email", "e mail", "phone", "telephone", "tel", "mobile"),
                  organisations_have_it=True),
)
_ORGANISATION_WORDS = frozenset({
    "setting", "school", "provider", "placement", "team", "establishment", "provision", "college", "nursery",
    "academy", "institution", "organisation", "organization", "la", "authority", "service", "unit", "trust",
})
_HEADING_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # "NHSNumber" -> NHS, Number


def _heading_words(heading: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _HEADING_WORDS.findall(heading))


def _personal_data_in(heading: str) -> str | None:
    """What personal data a heading seems to name, if any."""
    words = _heading_words(heading)
    run_together = "".join(words)
    for kind in _PERSONAL_DATA:
        if kind.organisations_have_it and _ORGANISATION_WORDS.intersection(words):
            continue
        for term in kind.terms:
            term_words = tuple(term.split())
            if "".join(term_words) in (run_together, *words) or any(
                    words[start:start + len(term_words)] == term_words for start in range(len(words))):
                return kind.what
    return None


def _personal_data_in_values(values: Sequence[str]) -> str | None:
    """What personal data most of a column's values seem to hold (UPNs, NHS numbers, names with
    dates of birth, postcodes, contact details), if any. "Most": one ID in eleven passes the NHS
    number check by chance, so a single match does not condemn a column of IDs."""
    found = [personal_data_in(value) for value in values if value]
    kinds = [kind for kinds in found for kind in dict.fromkeys(kinds)]
    for kind in dict.fromkeys(kinds):
        if kinds.count(kind) * 2 > len(found):
            return kind
    return None


def _cell_text(value: object) -> str:
    """An Excel cell as text. Excel stores every number as a float, so an ID typed as 12345 can
    arrive as 12345.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    """Text in the encodings Excel saves: UTF-8 (with or without a byte order mark), UTF-16
    ("Unicode Text"), then Windows-1252, its older default."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    elif len(data) > 3 and data[1::2][:50].count(0) > 20 and data.count(0) * 3 > len(data):
        encodings = ("utf-16-le",)  # UTF-16 without its byte order mark: every other byte is zero
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable('The file is not UTF-8, UTF-16 or Windows-1252 text. In Excel, save it as "CSV UTF-8 (Comma '
                      'delimited)" and import it again')


def _delimiter(text: str) -> str:
    """The separator: the one that splits the top lines most (Excel in some locales uses semicolons,
    and its "Unicode Text" tabs); title lines above the headings may have none."""
    top = text[:20_000].splitlines()[:HEADING_SEARCH_ROWS] or [""]
    return max(",;\t", key=lambda delimiter: max(line.count(delimiter) for line in top))


def csv_rows(data: bytes) -> Iterator[Sequence[str]]:
    """The rows of a CSV file (the register, or a cycle's auditor pool), decoded as Excel saves them."""
    _refuse_other_formats(data, "csv")
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        yield from reader
    except csv.Error as error:
        raise Unreadable(f"The file could not be read as CSV near line {reader.line_num} ({error}). "
                          "Check it in Excel, save it as CSV again and import it") from None


_SAVE_AS = "Open it in Excel, save it as an Excel workbook (.xlsx) or CSV, and import that"


def _refuse_other_formats(data: bytes, extension: str) -> None:
    """A clear message for a file whose content is not what its name says: an old Excel or Word
    file, a Word document, or a web page saved with a spreadsheet's name."""
    head = data[:2048]
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # the compound file of Office 97-2003
        if "WordDocument".encode("utf-16-le") in data[:MAX_FILE_BYTES]:
            raise Unreadable("The file is an old Word document (.doc), not a register. Export the register from the "
                              "case management system as CSV or .xlsx and import that")
        raise Unreadable(f"The file is in the old Excel 97-2003 format (.xls). {_SAVE_AS}")
    if head.startswith(b"PK\x03\x04"):
        with contextlib.suppress(zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
            if any(name.startswith("word/") for name in names):
                raise Unreadable("The file is a Word document (.docx), not a register. Export the register from the "
                                  "case management system as CSV or .xlsx and import that")
        if extension == "csv":
            raise Unreadable("The file is an Excel workbook with a .csv name. Save it as .xlsx, or export it as CSV, "
                              "and import it again")
    if head.lstrip().lower().startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        raise Unreadable(f"The file is a web page or XML with a spreadsheet's name, not a real {extension} file. "
                          f"{_SAVE_AS}")
    if head.startswith(b"%PDF"):
        raise Unreadable("The file is a PDF. Export the register from the case management system as CSV or .xlsx")


@contextlib.contextmanager
def _reading_workbook() -> Iterator[None]:
    try:
        yield
    except Unreadable:
        raise
    except Exception:  # zipfile and openpyxl raise many kinds of exception on damaged or hostile files
        raise Unreadable("The file could not be read as an Excel workbook (.xlsx). It may be damaged, "
                          "password-protected or in another format: open it in Excel, save it as .xlsx "
                          "and import it again") from None


@dataclass
class _Source:
    """The rows of the sheet read (from row 1), the sheet's name and every sheet's name."""

    rows: Iterator[Sequence]
    cell_text: Callable[[object], str]
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    close: Callable[[], None] = lambda: None


def _sheet_rows(sheet) -> Iterator[Sequence[object]]:
    """The sheet's rows, as wide as its top rows are (a register's columns all have headings).
    Read lazily, so a damaged part of the file can surface only here."""
    with _reading_workbook():
        top = list(sheet.iter_rows(max_row=HEADING_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True))
        width = max((number for row in top for number, value in enumerate(row, start=1) if _cell_text(value)), default=0)
        yield from (row[:width] for row in top)
        if width and len(top) == HEADING_SEARCH_ROWS:
            yield from sheet.iter_rows(min_row=HEADING_SEARCH_ROWS + 1, max_col=width, values_only=True)


def _xlsx_source(data: bytes, sheet_name: str | None) -> _Source:
    """The chosen sheet, else the first visible sheet whose top rows have a heading row."""
    with _reading_workbook():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise Unreadable(f"The workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB. "
                                  "Save only the register, as CSV, and import that")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            names = tuple(workbook.sheetnames)
            if sheet_name:
                chosen = next((name for name in names if match_key(name) == match_key(sheet_name)), None)
                if chosen is None:
                    raise Unreadable(f'The workbook has no sheet "{sheet_name}"; its sheets are '
                                      f"{', '.join(repr(name) for name in names)}")
            else:
                visible = [sheet.title for sheet in workbook.worksheets if sheet.sheet_state == "visible"] or list(names)
                chosen = next((name for name in visible if _find_heading_row(
                    [[_cell_text(value) for value in row]
                     for row in workbook[name].iter_rows(max_row=HEADING_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True)],
                    strict=True) is not None), visible[0])
            return _Source(_sheet_rows(workbook[chosen]), _cell_text, chosen, names, workbook.close)
        except BaseException:
            workbook.close()
            raise


def size_problem(size: int) -> str | None:
    """Why a file of this many bytes is refused, if it is; callers ask before reading it."""
    if size > MAX_FILE_BYTES:
        return (f"The file is {size / 2**20:.1f} MB; the most it can be is {MAX_FILE_BYTES // 2**20} MB. "
                "Split the register into smaller files and import each (plans already imported are kept)")
    return None


def _open(filename: str, data: bytes, sheet: str | None = None) -> _Source:
    """The file's rows from its first (and how to read a cell as text)."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension == "xls":
        raise Unreadable(f"The file is in the old Excel 97-2003 format (.xls). {_SAVE_AS}")
    if extension not in ("csv", "xlsx", "txt", "tsv"):
        raise Unreadable("The file must be a CSV file (.csv) or an Excel workbook (.xlsx)")
    too_big = size_problem(len(data))
    if too_big:
        raise Unreadable(too_big)
    if not data:
        raise Unreadable("The file is empty")
    if extension == "xlsx":
        _refuse_other_formats(data, extension)
        return _xlsx_source(data, sheet)
    return _Source(csv_rows(data), str.strip)


def _heading_score(cells: Sequence[str]) -> int:
    """How many cells of a row are headings the service knows (or refuses as personal data)."""
    return sum(1 for cell in cells if cell and (match_key(cell) in _COLUMN_BY_KEY or match_key(cell) in AMBIGUOUS_HEADINGS
                                                or _personal_data_in(cell)))


def _find_heading_row(top: Sequence[Sequence[str]], strict: bool = False) -> int | None:
    """The index of the heading row among the top rows: the one naming most known columns (two at
    least); failing that, and unless strict, the first row about as full as the fullest (title rows
    have one cell)."""
    scores = [_heading_score(row) for row in top]
    if scores and max(scores) >= 2:
        return scores.index(max(scores))
    if strict:
        return None
    filled = [sum(1 for cell in row if cell) for row in top]
    widest = max(filled, default=0)
    return next((index for index, count in enumerate(filled) if count >= 2 and count * 5 >= widest * 3), None)


def _read_headings(headings: Sequence[str], columns: Mapping[str, str]) -> tuple[list[FileColumn], list[RowProblem]]:
    """Each heading's column (or none), and the problems with the headings as a whole."""
    chosen: list[FileColumn] = []
    for index, heading in enumerate(headings[:MAX_COLUMNS]):
        if not heading:
            continue
        key = match_key(heading)
        personal = _personal_data_in(heading)
        if key in columns and not personal:
            field_name: str | None = columns[key] or None
            candidates: tuple[str, ...] = ()
        elif key in _COLUMN_BY_KEY:
            field_name, candidates = _COLUMN_BY_KEY[key].field, ()
        else:
            field_name, candidates = None, AMBIGUOUS_HEADINGS.get(key, ())
            if not candidates and "team" in _heading_words(heading):
                candidates = ("writer_team", IGNORE)  # never leave the writing team silently empty
        if field_name:
            personal = None  # the coordinator said what it is, or its heading is a known column's
        chosen.append(FileColumn(index, heading, field_name, candidates, personal=personal))
    taken = {column.field for column in chosen if column.field}
    resolved = []
    for column in chosen:
        if column.candidates:  # the one candidate the file does not have otherwise is the reading
            free = [name for name in column.candidates if name not in taken]
            if len(free) == 1 and free[0]:
                column = FileColumn(column.index, column.heading, free[0], column.candidates)
                taken.add(free[0])
            elif len(free) <= 1:  # nothing left for it to be
                column = FileColumn(column.index, column.heading, None, ())
        resolved.append(column)
    return resolved, _heading_problems(resolved)


def _personal_column_problem(column: FileColumn) -> RowProblem:
    return RowProblem(None, column.heading, f"(column {column.letter}) looks like personal data: the service never "
                                            f"holds {column.personal}; remove the column and import again")


def _heading_problems(columns: Sequence[FileColumn]) -> list[RowProblem]:
    problems: list[RowProblem] = []
    first_of: dict[str, FileColumn] = {}
    for column in columns:
        if column.personal and not column.field:
            problems.append(_personal_column_problem(column))
        elif column.field is None and column.candidates:
            options = " or ".join(field_label(name) for name in column.candidates)
            problems.append(RowProblem(None, column.heading, f"(column {column.letter}) could be {options}; say which "
                                                             "in the mapping step (or with --map on the command line)"))
        elif column.field in first_of:
            first = first_of[column.field]
            problems.append(RowProblem(None, column.heading, f"(column {column.letter}) is a second "
                                                             f'{field_label(column.field)} column, as well as '
                                                             f'"{first.heading}" (column {first.letter}); keep one, or '
                                                             "map one of them to Not used, and import again"))
        elif column.field:
            first_of[column.field] = column
    undecided = any(column.candidates and column.field is None for column in columns)
    for column in _COLUMNS:
        missing = column.required and column.field not in first_of and not (
            column.field == "key_stage" and {"year_group", "age"} & set(first_of))
        if missing and not undecided:
            others = ", ".join(f'"{alias}"' for alias in column.aliases[:6])
            problems.append(RowProblem(None, column.heading, f'is missing: the heading row needs a "{column.heading}" '
                                                             f"column (or {others} …), or map a column to it"))
    return problems


def _with_samples(columns: Sequence[FileColumn], top_rows: Sequence[Sequence[str]]) -> tuple[FileColumn, ...]:
    """The columns with a few sample values each, and personal data looked for in their values.
    A column that may hold personal data shows no samples; one whose values mostly are personal
    data, and that is not read, refuses the file."""
    shown = []
    for column in columns:
        values = [row[column.index] for row in top_rows if column.index < len(row) and row[column.index]]
        personal = column.personal
        if personal is None and column.field is None:
            found = _personal_data_in_values(values)
            personal = f"{found}, going by its values" if found else None
        samples = tuple(dict.fromkeys(values))[:SAMPLES_SHOWN]
        if personal or any(personal_data_in(value, dates_allowed=False) for value in values):
            samples = ()
        shown.append(FileColumn(column.index, column.heading, column.field, column.candidates, samples, personal))
    return tuple(shown)


def _fill_merged_headings(headings: list[str], above: Sequence[str]) -> list[str]:
    """A heading cell merged down from the row above is empty in the heading row: take the
    value above it (only there, so a group heading over several columns is not copied)."""
    return [heading or (above[index] if index < len(above) else "") for index, heading in enumerate(headings)]


def _unknown_problem(unknown: UnknownSpelling, noun: str) -> RowProblem:
    rows = ", ".join(str(row) for row in unknown.rows[:ROWS_NAMED]) + (", …" if len(unknown.rows) > ROWS_NAMED else "")
    shown = unknown.value if len(unknown.value) <= 60 else unknown.value[:60] + "…"
    labels = unknown.suggestions
    meant = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    advice = f"did you mean {meant}? Map it to the right one in the import, or correct the file"
    if len(unknown.rows) == 1:
        return RowProblem(unknown.rows[0], unknown.column, f'"{shown}" is not {noun}: {advice}')
    return RowProblem(None, unknown.column, f'has "{shown}" on {len(unknown.rows)} rows ({rows}), which is not {noun}: '
                                            f"{advice}")


_NOUNS = {"key_stage": "a key stage", "setting_type": "a setting type", "primary_need": "a SEN2 primary-need code",
          "plan_type": "a plan type"}


def _read_plans(source: _Source, columns: Mapping[str, str], values: Mapping[str, Mapping[str, str]]) -> ImportResult:
    rows, cell_text = source.rows, source.cell_text
    top = [[cell_text(value) for value in record] for record in itertools.islice(rows, HEADING_SEARCH_ROWS)]
    where = {"sheet": source.sheet, "sheets": source.sheets}
    heading_index = _find_heading_row(top)
    if heading_index is None:
        expected = ", ".join(column.heading for column in _COLUMNS[:7])
        return ImportResult([], [RowProblem(None, None, f"No heading row found in the first {HEADING_SEARCH_ROWS} rows: "
                                                        f"one row must name the columns ({expected})")], [], **where)
    headings = top[heading_index]
    if heading_index:
        headings = _fill_merged_headings(headings, top[heading_index - 1])
    heading_row = heading_index + 1
    where["heading_row"] = heading_row
    file_columns, problems = _read_headings(headings, columns)
    first_data = heading_row + 1
    # The rows read twice (for samples, then as plans): those already read, and enough more.
    read_ahead = top[heading_index + 1:] + [[cell_text(value) for value in record]
                                            for record in itertools.islice(rows, SAMPLE_ROWS)]
    top_rows = [row for row in read_ahead[:SAMPLE_ROWS] if any(row)]
    file_columns = list(_with_samples(file_columns, top_rows))
    problems += [_personal_column_problem(column) for column in file_columns
                 if column.personal and not column.field and not _personal_data_in(column.heading)]
    read = {source for _, _, _, source, *_ in _readers(file_columns, values)}
    ignored = tuple(column.heading for column in file_columns if column.field not in read)
    where.update(columns=tuple(file_columns), ignored_columns=ignored)
    records = itertools.chain(read_ahead, ([cell_text(value) for value in record] for record in rows))
    if problems:
        if any(column.personal and not column.field for column in file_columns):
            return ImportResult([], problems, [], **where)
        # The file is kept while the coordinator maps it, so first make sure no cell holds personal data.
        in_cells = _personal_data_in_cells(records, first_data, file_columns)
        return ImportResult([], in_cells or problems, [], needs_mapping=not in_cells, **where)
    return _read_rows(records, first_data, file_columns, values, where)


def _personal_data_in_cells(records: Iterator[Sequence[str]], first_row: int,
                            file_columns: Sequence[FileColumn]) -> list[RowProblem]:
    """Every cell of the file that looks like personal data, by row and column (never the value)."""
    found_in = functools.lru_cache(maxsize=65536)(personal_data_in)
    problems = []
    for row_number, record in enumerate(itertools.islice(records, MAX_ROWS), start=first_row):
        for column in file_columns:
            found = found_in(record[column.index]) if column.index < len(record) and record[column.index] else None
            if found:
                problems.append(RowProblem(row_number, column.heading, _personal_data_message(found)))
    return problems


def _readers(file_columns: Sequence[FileColumn], values: Mapping[str, Mapping[str, str]]):
    """For each PlanRow field read from the file: (position, file index, heading, column, checker).
    A key stage column wins over a year group column, which wins over an age column."""
    by_field = {column.field: column for column in file_columns if column.field}
    sources = {"key_stage": next((name for name in ("key_stage", "year_group", "age") if name in by_field), None)}
    readers = []
    for position, name in enumerate(_PLAN_FIELDS):
        source = sources.get(name, name)
        if source not in by_field:
            continue
        column, spec = by_field[source], _COLUMN_BY_FIELD[source]
        spellings = values.get(name, {})

        def check(value: str, spec=spec, spellings=spellings) -> tuple[str | None, str | None, bool]:
            try:
                return spec.clean(value, spellings), None, False
            except UnknownValue as unknown:
                return None, str(unknown), True
            except ValueError as error:
                return None, str(error), False

        readers.append((position, column.index, column.heading, source, spec.key, check if spec.key else functools.cache(check)))
    return readers


def _read_rows(records: Iterator[Sequence[str]], first_row: int, file_columns: Sequence[FileColumn],
               values: Mapping[str, Mapping[str, str]], where: dict) -> ImportResult:
    # PlanRow's fields start as the defaults and the file's values go into their positions. Checks
    # are memoised for the import, as a register repeats a few dozen needs, stages, types, settings
    # and teams; the key differs on every row, so it is not memoised.
    defaults = [_COLUMN_BY_FIELD[name].default for name in _PLAN_FIELDS]
    readers = _readers(file_columns, values)
    indices = [index for _, index, *_ in readers]
    need_heading = next(heading for position, _, heading, *_ in readers if _PLAN_FIELDS[position] == "primary_need")
    plans: list[PlanRow] = []
    problems: list[RowProblem] = []
    flagged: list[RowProblem] = []
    unknown: dict[tuple[str, str, str], list[int]] = {}
    first_row_of: dict[str, int] = {}
    data_rows = 0
    for row_number, record in enumerate(records, start=first_row):
        cells = [record[index] if index < len(record) else "" for index in indices]
        if not any(cells):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            problems.append(RowProblem(None, None, f"The file has more than {MAX_ROWS:,} plans. Split it into smaller "
                                                   "files and import each (plans already imported are kept)"))
            break
        row = defaults.copy()
        valid = True
        for cell, (position, _, heading, source, key, check) in zip(cells, readers):
            value, error, is_unknown = check(cell)
            if key and error is None:
                first = first_row_of.setdefault(value, row_number)
                if first != row_number:
                    error = f'"{value}" is also in row {first}; each plan must be in the file once'
            if error is None:
                row[position] = value
                continue
            valid = False
            if is_unknown and _COLUMN_BY_FIELD[source].reader is None:
                unknown.setdefault((source, heading, cell), []).append(row_number)
            else:
                problems.append(RowProblem(row_number, heading, error))
        if valid:
            plan = PlanRow(row_number, *row)
            plans.append(plan)
            flag = PRIMARY_NEEDS.flag(plan.primary_need)
            if flag:
                flagged.append(RowProblem(row_number, need_heading, flag))
    spellings = tuple(UnknownSpelling(_COLUMN_BY_FIELD[source].target, heading, value, tuple(rows),
                                      tuple(_COLUMN_BY_FIELD[source].vocabulary.suggest(value)))
                      for (source, heading, value), rows in unknown.items())
    # In row order, a value on several rows at its first row, so the list reads down the file.
    ordered = [(problem.row or MAX_ROWS * 2, problem) for problem in problems]
    ordered += [(item.rows[0], _unknown_problem(item, _NOUNS[item.field])) for item in spellings]
    problems = [problem for _, problem in sorted(ordered, key=lambda pair: pair[0])]
    if not data_rows:
        problems.append(RowProblem(None, None, "The file has headings but no plans below them"))
    return ImportResult(plans, problems, flagged, unknown_spellings=spellings, **where)


def parse_plan_file(filename: str, data: bytes, *, columns: Mapping[str, str] | None = None,
                    values: Mapping[str, Mapping[str, str]] | None = None, sheet: str | None = None) -> ImportResult:
    """Read and check a register file. Never raises: a file that cannot be read at all comes back
    as a single problem about the whole file.

    columns maps a heading (by vocabulary.match_key) to the field it is (IGNORE for a column not
    used); values maps a field to {vocabulary.word_key(spelling): code} for spellings the
    coordinator has mapped; sheet names the workbook's sheet to read.
    """
    in_name = personal_data_in(filename.rpartition(".")[0])
    if in_name:
        return ImportResult([], [RowProblem(None, None, f"The file's name looks like it holds personal data "
                                                        f"({' and '.join(in_name)}); rename the file and import it again")], [])
    try:
        source = _open(filename, data, sheet)
        try:
            with contextlib.closing(source.rows):
                return _read_plans(source, columns or {}, values or {})
        finally:
            source.close()
    except Unreadable as refusal:
        return ImportResult([], [RowProblem(None, None, str(refusal))], [])
