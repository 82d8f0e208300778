"""Reading a plan register file (CSV or Excel .xlsx) into checked rows, with every problem listed.

Pure: bytes in, an ImportResult out, and parse_plan_file never raises, whatever the bytes. The
caller refuses a file with any problem, so all of them are reported at once, each with its
spreadsheet row number (the headings are row 1) and the column heading as the file spells it.

The register holds pseudonymous System IDs only. A file with a column that looks like personal data
(a name, date of birth, UPN, NHS number, address or contact details) is refused before any row is
read, and a System ID that looks like a UPN or an NHS number is refused too. Problems never repeat
a value that may be such an identifier.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES, Vocabulary, match_key

MAX_FILE_BYTES = 20 * 1024 * 1024  # the web upload limit
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # an .xlsx is a zip: refuse one that would unpack to more
MAX_ROWS = 250_000  # over ten times the largest LA's register
MAX_COLUMNS = 200


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
    with a column but no row (a problem with the headings) the message continues the sentence
    'Column "Date of birth" <message>'; with neither, the message is about the whole file."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f'Column "{self.column}" {self.message}' if self.column else self.message
        where = f'Row {self.row}, column "{self.column}"' if self.column else f"Row {self.row}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """The rows that passed every check, the problems (import nothing if there are any), the
    accepted rows worth a second look, and the headings the service has no use for (ignored)."""

    rows: list[PlanRow]
    problems: list[RowProblem]
    flagged: list[RowProblem]
    ignored_columns: tuple[str, ...] = ()


class Unreadable(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


_UPN = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")  # a check letter and 12 digits; a temporary UPN ends in a letter
_EXCEL_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+[0-9]+", re.IGNORECASE)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})  # control, format (zero-width, bidi), separators
_NOT_HELD = "which the service never holds; use the System ID from your case management system"


def _is_nhs_number(digits: str) -> bool:
    """Ten digits whose last is the modulus 11 check digit of the first nine (weights 10 down to 2)."""
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, range(10, 1, -1))) % 11
    return (11 - remainder) % 11 == int(digits[9])  # a check of 10 is never valid, and never equals a digit


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


def _refuse_invisible_characters(value: str) -> None:
    for character in value:
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            raise ValueError(f"contains an invisible or control character (U+{ord(character):04X}); retype the value")


@dataclass(frozen=True)
class _Column:
    field: str  # of PlanRow
    heading: str
    aliases: tuple[str, ...]
    required: bool = False  # the column must be in the file
    default: str | None = None  # when the file has no such column at all
    key: bool = False  # the row's key: no two rows may share it
    vocabulary: Vocabulary | None = None
    max_length: int = 0  # for free text: the database column's length
    check: Callable[[str], None] | None = None

    def clean(self, value: str) -> str | None:
        """The value to store, None for an empty optional cell; ValueError says what is wrong."""
        if not value:
            if self.required or self.vocabulary is not None:
                raise ValueError("the cell is empty, but every plan needs one")
            return None
        if not value.isprintable():  # cheap test first: most values are plain text
            _refuse_invisible_characters(value)
        if self.vocabulary is not None:
            return self.vocabulary.normalise(value)
        if len(value) > self.max_length:
            raise ValueError(f"is {len(value)} characters long; the most it can be is {self.max_length}")
        if self.check is not None:
            self.check(value)
        return value

    def checked(self, value: str) -> tuple[str | None, str | None]:
        """(value to store, None) or (None, what is wrong)."""
        try:
            return self.clean(value), None
        except ValueError as error:
            return None, str(error)


_COLUMNS = (
    _Column("system_id", "System ID", ("C/YP ID", "CYP ID", "Child ID", "Person ID", "Case ID", "ID"),
            required=True, key=True, max_length=64, check=_check_system_id),
    _Column("key_stage", "Key stage", ("KS", "NC key stage"), required=True, vocabulary=KEY_STAGES),
    _Column("setting_name", "Setting name", ("Setting", "School", "School name", "Placement", "Placement name",
                                             "Provider", "Provider name"), max_length=200),
    _Column("setting_type", "Setting type", ("Type of setting", "Placement type", "Provision type"),
            required=True, vocabulary=SETTING_TYPES),
    _Column("primary_need", "Primary need", ("Primary SEN", "Primary SEN need", "Need", "SEN2 primary need",
                                             "Primary need code"), required=True, vocabulary=PRIMARY_NEEDS),
    _Column("plan_type", "Plan type", ("Type", "Plan status"), default="annual_review", vocabulary=PLAN_TYPES),
    _Column("writer_team", "Writer team", ("Team", "Team name", "Plan writer team", "Case officer team"),
            max_length=120),
)


def _columns_by_key() -> dict[str, _Column]:
    # Headings match exactly (after case and punctuation), so "Type" is the plan type and
    # "Setting type" the setting type, however loosely each is written.
    by_key: dict[str, _Column] = {}
    for column in _COLUMNS:
        for heading in (column.heading, *column.aliases):
            if by_key.setdefault(match_key(heading), column) is not column:
                raise ValueError(f"The heading {heading!r} would name two columns")
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
    _PersonalData("a child's date of birth", ("date of birth", "birth date", "dob", "birthday")),
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


def _personal_data_in(heading: str) -> str | None:
    """What personal data a heading seems to name, if any."""
    words = tuple(word.lower() for word in _HEADING_WORDS.findall(heading))
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


def _cell_text(value: object) -> str:
    """An Excel cell as text. Excel stores every number as a float, so an ID typed as 12345 can
    arrive as 12345.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel's "CSV UTF-8", then its older default
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable('The file is not UTF-8 or Windows-1252 text. In Excel, save it as "CSV UTF-8 (Comma delimited)" '
                      "and import it again")


def csv_rows(data: bytes) -> Iterator[Sequence[str]]:
    if data.startswith(b"PK\x03\x04"):
        raise Unreadable("The file is an Excel workbook with a .csv name. Save it as .xlsx, or export it as CSV, "
                          "and import it again")
    text = _decode(data)
    line_end = text.find("\n")
    first_line = text if line_end < 0 else text[:line_end]
    delimiter = max(",;\t", key=first_line.count)  # Excel in some locales separates with semicolons
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise Unreadable(f"The file could not be read as CSV near line {reader.line_num} ({error}). "
                          "Check it in Excel, save it as CSV again and import it") from None


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


def _xlsx_rows(data: bytes) -> Iterator[Sequence[object]]:
    """The first sheet's heading row, then its rows up to the last heading's column."""
    with _reading_workbook():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise Unreadable(f"The workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB. "
                                  "Save only the register, as CSV, and import that")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            headings = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
            width = max((number for number, value in enumerate(headings, start=1) if _cell_text(value)), default=0)
            yield headings[:width]
            if width:
                yield from sheet.iter_rows(min_row=2, max_col=width, values_only=True)
        finally:
            workbook.close()


def _open(filename: str, data: bytes) -> tuple[Iterator[Sequence], Callable[[object], str]]:
    """The file's rows (headings first) and how to read a cell as text."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension == "xls":
        raise Unreadable("The file is in the old Excel 97-2003 format (.xls). Save it as an Excel workbook (.xlsx) "
                          "or CSV and import it again")
    if extension not in ("csv", "xlsx"):
        raise Unreadable("The file must be a CSV file (.csv) or an Excel workbook (.xlsx)")
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"The file is {len(data) / 2**20:.1f} MB; the most it can be is {MAX_FILE_BYTES // 2**20} MB. "
                          "Split the register into smaller files and import each (plans already imported are kept)")
    if not data:
        raise Unreadable("The file is empty")
    if extension == "csv":
        return csv_rows(data), str.strip
    return _xlsx_rows(data), _cell_text


@dataclass(frozen=True)
class _Layout:
    """Where each column the service uses is in the file, by PlanRow field: (index, heading)."""

    found: dict[str, tuple[int, str]]
    ignored: tuple[str, ...]
    problems: list[RowProblem]


def _read_headings(headings: Sequence[str]) -> _Layout:
    found: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    problems: list[RowProblem] = []
    for index, heading in enumerate(headings[:MAX_COLUMNS]):
        if not heading:
            continue
        letter = get_column_letter(index + 1)
        column = _COLUMN_BY_KEY.get(match_key(heading))
        if column is None:
            personal = _personal_data_in(heading)
            if personal:
                problems.append(RowProblem(None, heading, f"(column {letter}) looks like personal data: the service "
                                                          f"never holds {personal}; remove the column and import again"))
            else:
                ignored.append(heading)
        elif column.field in found:
            first_index, first_heading = found[column.field]
            problems.append(RowProblem(None, heading, f'(column {letter}) is a second {column.heading} column, as well as '
                                                      f'"{first_heading}" (column {get_column_letter(first_index + 1)}); '
                                                      "keep one and import again"))
        else:
            found[column.field] = (index, heading)
    for column in _COLUMNS:
        if column.required and column.field not in found:
            others = ", ".join(f'"{alias}"' for alias in column.aliases)
            problems.append(RowProblem(None, column.heading, f'is missing: row 1 needs a heading "{column.heading}" '
                                                             f"(or {others})"))
    return _Layout(found, tuple(ignored), problems)


def _read_plans(rows: Iterator[Sequence], cell_text: Callable[[object], str]) -> ImportResult:
    headings = [cell_text(value) for value in next(rows, ())]
    if not any(headings):
        expected = ", ".join(column.heading for column in _COLUMNS)
        return ImportResult([], [RowProblem(None, None, f"Row 1 must have the column headings ({expected})")], [])
    layout = _read_headings(headings)
    if layout.problems:
        return ImportResult([], layout.problems, [], layout.ignored)
    # _COLUMNS is in PlanRow's field order, so a row starts as the defaults and the file's values
    # go into their positions. Checks are memoised for the import, as a register repeats a few dozen
    # needs, stages, types, settings and teams; the key differs on every row, so it is not memoised.
    defaults = [column.default for column in _COLUMNS]
    indices: list[int] = []
    readers: list[tuple[int, str, bool, Callable[[str], tuple[str | None, str | None]]]] = []
    for position, column in enumerate(_COLUMNS):
        if column.field in layout.found:
            index, heading = layout.found[column.field]
            indices.append(index)
            readers.append((position, heading, column.key, column.checked if column.key else functools.cache(column.checked)))
    need_heading = layout.found["primary_need"][1]
    plans: list[PlanRow] = []
    problems: list[RowProblem] = []
    flagged: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    data_rows = 0
    for row_number, record in enumerate(rows, start=2):
        cells = [cell_text(record[index]) if index < len(record) else "" for index in indices]
        if not any(cells):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            problems.append(RowProblem(None, None, f"The file has more than {MAX_ROWS:,} plans. Split it into smaller "
                                                   "files and import each (plans already imported are kept)"))
            break
        values = defaults.copy()
        valid = True
        for cell, (position, heading, key, check) in zip(cells, readers):
            value, error = check(cell)
            if key and error is None:
                first_row = first_row_of.setdefault(value, row_number)
                if first_row != row_number:
                    error = f'"{value}" is also in row {first_row}; each plan must be in the file once'
            if error is None:
                values[position] = value
            else:
                problems.append(RowProblem(row_number, heading, error))
                valid = False
        if valid:
            plan = PlanRow(row_number, *values)
            plans.append(plan)
            flag = PRIMARY_NEEDS.flag(plan.primary_need)
            if flag:
                flagged.append(RowProblem(row_number, need_heading, flag))
    if not data_rows:
        problems.append(RowProblem(None, None, "The file has headings but no plans below them"))
    return ImportResult(plans, problems, flagged, layout.ignored)


def parse_plan_file(filename: str, data: bytes) -> ImportResult:
    """Read and check a register file. Never raises: a file that cannot be read at all comes back
    as a single problem about the whole file."""
    try:
        rows, cell_text = _open(filename, data)
        with contextlib.closing(rows):
            return _read_plans(rows, cell_text)
    except Unreadable as refusal:
        return ImportResult([], [RowProblem(None, None, str(refusal))], [])
