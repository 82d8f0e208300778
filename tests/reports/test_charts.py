from xml.etree import ElementTree

from audit_workflow.reports.aggregates import GradeCount, distributions
from audit_workflow.reports.charts import STYLES, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"


def chart():
    rows = distributions([GradeCount("overall", "good", 54), GradeCount("overall", "inadequate", 69),
                          GradeCount("A", "outstanding", 3)])
    return ElementTree.fromstring(str(stacked_bars("c1", "Overall <grades>", [rows["overall"], rows["A"], rows["B"]])))


def test_a_chart_is_an_image_with_a_title_and_its_numbers_in_words():
    svg = chart()
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Overall <grades>"
    desc = svg.find(f"{SVG}desc").text
    assert "Overall: Outstanding 0% (0 of 123), Good 44% (54 of 123), Requires improvement 0% (0 of 123), Inadequate 56% (69 of 123)." in desc
    assert "Section B: no graded plans." in desc


def test_every_grade_has_its_own_colour_and_pattern_or_none():
    assert len({style.colour for style in STYLES.values()}) == 4
    assert len({style.pattern for style in STYLES.values()}) == 4
    ids = {pattern.get("id") for pattern in chart().iter(f"{SVG}pattern")}
    assert ids == {"c1-good", "c1-requires_improvement", "c1-inadequate"}


def test_no_inline_style_and_no_script():
    svg = chart()
    assert not any(element.get("style") for element in svg.iter())
    assert not list(svg.iter(f"{SVG}script"))
