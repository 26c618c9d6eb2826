"""Import problems in the clerk's language (issue 12): ``aidledger import --lang zh`` tells each problem
on one Chinese line — the sheet and row, the column by its Chinese header and key, the value as
written, what is wrong and what is accepted (可接受) — in the terminal, the refusal and the rejects
file; ``--lang en`` (the default) is unchanged, and ``--json`` keeps its fields."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

import aidledger
from aidledger.cli import main
from aidledger.errors import InvalidInput, RuleViolation
from aidledger.interchange.commands import resolve_reference
from aidledger.interchange.importer import import_file
from aidledger.interchange.messages import RULE_NAMES, problem_line, problem_message

HEADER = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,implementing_organization_id,"
    "region,category,field,planned_start,planned_end,donor_id,project_id,amount,pledge_id"
)
ROWS = [
    "register_organization,org-1,2018-01-02,clerk,示例基金会（虚构）,foundation,provincial,130000,,,,,,,,,,,",
    "register_project,prj-1,2018-01-03,clerk,,,,,张北县示例项目（虚构）,org-1,130722,capacity,education,"
    "2018-02-01,2018-12-31,,,,",
    "make_pledge,pl-1,2018-01-04,clerk,,,,,,,,,,,,org-1,prj-1,100000,",
    "register_organization,org-2,2018-01-02,clerk,示例协会（虚构）,charity_club,provincial,130000,,,,,,,,,,,",
    "register_organization,org-3,2018-13-45,clerk,示例商会（虚构）,foundation,provincial,130000,,,,,,,,,,,",
    "make_pledge,pl-2,2018-01-05,clerk,,,,,,,,,,,,org-1,prj-1,¥100,",
    "make_plege,pl-3,2018-01-05,clerk,,,,,,,,,,,,org-1,prj-1,100,",
    "make_pledge,pl-4,2018-01-05,clerk,,,,,,,,,,,,,prj-1,100,",
    "make_pledge,pl-5,2018-01-05,clerk,,,,,,,,,,,,org-1,prj-x,100,",
    "register_organization,org-1,2018-01-02,clerk,别的名字,foundation,provincial,130000,,,,,,,,,,,",
    "disburse,d-1,2018-02-01,clerk,,,,,,,,,,,,,,200000,pl-1",
]
EXPECTED_ZH = {
    5: ("类型（kind）", "'charity_club'", "不是可接受的值；可接受：基金会（foundation）、社会团体（social_group）"),
    6: ("日期（effective_on）", "'2018-13-45'", "不是有效日期"),
    7: ("金额（amount）", "'¥100'", "金额无法读取：含货币符号或单位"),
    8: ("命令（command）", "'make_plege'", "不是可识别的命令（是否想写「认捐（make_pledge）」？）；可接受：登记组织"),
    9: ("捐赠方编号（donor_id）", "", "是「认捐（make_pledge）」的必填项（这一格是空的）"),
    10: ("项目编号（project_id）", "'prj-x'", "找不到这个项目"),
    11: ("命令编号（command_id）", "'org-1'", "也是第 2 行的命令编号，而那是另一条命令"),
    12: ("金额（amount）", "'200000'", "违反账本规则：拨付超过认捐金额（OverDisbursement"),
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; returns the exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "台账.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def _lines(out: str, prefix: str) -> list[str]:
    """The problem lines of a summary printed on a narrow terminal (rich wraps long lines)."""
    text = " ".join(out.split())
    return [prefix + part.strip() for part in text.split(prefix)[1:]]


def test_a_csv_imported_with_lang_zh_tells_each_problem_on_one_chinese_line(
    bad_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad row: 第 N 行, the column's Chinese header and key, the value as written, 可接受; the
    summary and the rejects file in Chinese too; a rule names the pledge as the clerk wrote it."""
    rejects = tmp_path / "rejects.csv"
    db = str(tmp_path / "ledger.db")
    argv = ["--db", db, "import", str(bad_csv), "--lang", "zh", "--skip-invalid", "--rejects", str(rejects)]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert f"读取 11 行，存入 3 行，已存在 0 行，拒绝 8 行（被拒绝的行已写入 {rejects}）" in " ".join(out.split())
    lines = _lines(out, "拒绝 第 ")
    assert len(lines) == len(EXPECTED_ZH)
    for line, (number, (column, value, said)) in zip(lines, EXPECTED_ZH.items(), strict=True):
        assert line.startswith(f"拒绝 第 {number} 行，列「{column}」：{value}"), line
        assert said in line and "可接受：" in line, line
    assert "'pl-1'" in lines[-1] and "-4" not in lines[-1].split("OverDisbursement")[0]
    with rejects.open(encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert [int(row[0]) for row in table[1:]] == list(EXPECTED_ZH)
    for row, (column, value, said) in zip(table[1:], EXPECTED_ZH.values(), strict=True):
        assert row[1].startswith(f"列「{column}」：{value}") and said in row[1] and "可接受：" in row[1]


def test_lang_en_is_the_default_and_unchanged(
    bad_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--lang en`` prints what an import without ``--lang`` prints: English, as before."""
    outputs = []
    for name, extra in (("a", []), ("b", ["--lang", "en"])):
        code, out, _ = run(
            capsys, "--db", str(tmp_path / f"{name}.db"), "import", str(bad_csv), "--skip-invalid", *extra
        )
        assert code == 0
        outputs.append(out.replace(f"{name}.db", ""))
    assert outputs[0] == outputs[1]
    text = " ".join(outputs[0].split())
    assert "11 rows read, 3 stored, 0 already present, 8 rejected" in text
    assert "rejected line 5, column kind: 'charity_club' Input should be" in text
    assert "可接受" not in text


def test_a_refused_import_in_chinese_is_one_line_and_json_keeps_its_fields(
    bad_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal is one Chinese line on stderr; ``--json`` has the same fields in both languages,
    only the message text in the language asked for."""
    summaries = {}
    for lang in ("en", "zh"):
        db = str(tmp_path / f"{lang}.db")
        code, out, err = run(capsys, "--db", db, "--json", "import", str(bad_csv), "--lang", lang)
        assert code == 2
        assert len(err.strip().splitlines()) == 1
        summaries[lang] = json.loads(out)
    assert "11 行中有 8 行有问题，什么都没有存入" in err and "第 5 行，列「类型（kind）」" in err
    english, chinese = summaries["en"], summaries["zh"]
    assert set(english) == set(chinese)
    for key in set(english) - {"problems", "file"}:
        assert english[key] == chinese[key], key
    for before, after in zip(english["problems"], chinese["problems"], strict=True):
        assert set(before) == set(after) == {"line", "column", "value", "message", "sheet"}
        assert {k: v for k, v in before.items() if k != "message"} == {k: v for k, v in after.items() if k != "message"}
    assert chinese["problems"][0]["message"].startswith("不是可接受的值；可接受：")


def _bad_workbook(path: Path) -> None:
    """A workbook written by xlsxwriter (read by calamine): Chinese headers, a date cell, bad rows."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("登记组织")
    dates = book.add_format({"num_format": "yyyy/m/d"})
    sheet.write_row(0, 0, ["命令编号", "日期", "记录人", "名称", "类型", "登记级别", "所在地区代码"])
    sheet.write_row(1, 0, ["org-1", None, "clerk", "示例基金会（虚构）", "基金会", "省级", "130000"])
    sheet.write_datetime(1, 1, datetime.datetime(2018, 1, 2), dates)
    sheet.write_row(2, 0, ["org-2", "2018/1/2", "clerk", "示例协会（虚构）", "慈善俱乐部", "省级", "130000"])
    sheet.write_row(3, 0, ["org-3", "2018年13月2日", "clerk", "示例商会（虚构）", "社会团体", "市级", "130100"])
    sheet.write_row(4, 0, ["org-4", "2018/1/2", "clerk", "示例中心（虚构）", "社会服务机构", "全省", "130000"])
    book.close()


def test_a_workbook_imported_with_lang_zh_names_the_sheet_row_and_chinese_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """工作表「登记组织」第 N 行; enumerated values accepted are listed by their Chinese names; the
    rejects workbook's problem column is Chinese too."""
    path = tmp_path / "台账.xlsx"
    _bad_workbook(path)
    db = str(tmp_path / "ledger.db")
    code, out, _ = run(capsys, "--db", db, "import", str(path), "--lang", "zh", "--skip-invalid")
    assert code == 0
    lines = _lines(out, "拒绝 工作表")
    assert [line.split("，")[0] for line in lines] == [f"拒绝 工作表「登记组织」第 {n} 行" for n in (3, 4, 5)]
    assert "列「类型（kind）」：'慈善俱乐部' 不是可接受的值；可接受：基金会（foundation）" in lines[0]
    assert "列「日期（effective_on）」：'2018年13月2日' 不是有效日期" in lines[1] and "可接受：" in lines[1]
    assert "列「登记级别（level）」：'全省' 不是可接受的值；可接受：全国性（national）、省级（provincial）" in lines[2]
    rejects = openpyxl.load_workbook(path.with_suffix(".rejects.xlsx"), read_only=True)
    rows = list(rejects.worksheets[0].iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == [line.split("，", 1)[1] for line in lines]
    rejects.close()


def test_an_unknown_column_is_refused_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A header the vocabulary does not know: the file is refused, the column named, in Chinese."""
    path = tmp_path / "台账.csv"
    path.write_text(HEADER.replace("amount", "amout") + "\n" + ROWS[0] + "\n", encoding="utf-8")
    code, _, err = run(capsys, "--db", str(tmp_path / "ledger.db"), "import", str(path), "--lang", "zh")
    assert code == 2
    text = " ".join(err.split())
    assert "第 1 行，列 'amout'：未知的列（是否想写「金额（amount）」？）；可接受：" in text


def test_the_python_entry_point_takes_lang_and_refuses_other_languages(bad_csv: Path) -> None:
    """``import_file(..., lang="zh")`` raises the refusal in Chinese; an unknown language is bad input."""
    with aidledger.open(":memory:") as ledger:
        with pytest.raises(InvalidInput, match="11 行中有 8 行有问题"):
            import_file(ledger, bad_csv, lang="zh")
        with pytest.raises(InvalidInput, match="lang"):
            import_file(ledger, bad_csv, lang="fr")


def _rules(cls: type[RuleViolation]) -> list[type[RuleViolation]]:
    return [cls, *(rule for sub in cls.__subclasses__() for rule in _rules(sub))]


def test_every_rule_of_the_ledger_has_a_chinese_description() -> None:
    """A new error class without words for the clerk fails here."""
    missing = {rule.__name__ for rule in _rules(RuleViolation)[1:]} - set(RULE_NAMES)
    assert missing == set()


def test_untranslated_detail_stays_english_after_a_chinese_frame() -> None:
    """A detail this module has no words for is kept as it is, its 'accepted' as 可接受; control
    characters in the value are escaped as in English."""
    message = problem_message("zh", "items", "item 'x' does not have 3 parts; accepted: d|q|u")
    line = problem_line("zh", "认捐", 7, "items", "a\x1bb", message)
    assert (
        line
        == "工作表「认捐」第 7 行，列「物资明细（items）」：'a\\x1bb' item 'x' does not have 3 parts；可接受：d|q|u"
    )


def test_a_rule_broken_while_storing_without_rehearsal_is_told_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-rehearsal --lang zh: the row that stops the import, the rule in Chinese, what stays stored."""
    corpus = Path(__file__).resolve().parents[1] / "data" / "import" / "over-disbursement.csv"
    argv = ["--db", str(tmp_path / "ledger.db"), "import", "--no-rehearsal", "--lang", "zh", str(corpus)]
    code, _, err = run(capsys, *argv)
    assert code == 3
    text = " ".join(err.split())
    assert text.startswith("error: OverDisbursement: 第 6 行：违反账本规则：拨付超过认捐金额（")
    assert "文件中此前的 4 行已存入并保留" in text


def test_hostile_values_are_escaped_in_chinese_lines_as_in_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A control character in an echoed value is shown escaped; a formula stays inert in the rejects file."""
    path = tmp_path / "台账.csv"
    row = "register_organization,org-9,2018-01-02,clerk,Evil\x1b[2J基金会,=1+2,provincial,130000,,,,,,,,,,,"
    path.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    argv = ["--db", str(tmp_path / "ledger.db"), "import", str(path), "--lang", "zh", "--skip-invalid"]
    code, out, _ = run(capsys, *argv, "--rejects", str(rejects))
    assert code == 0
    assert "\x1b" not in out
    text = " ".join(out.split())
    assert "拒绝 第 2 行，列「名称（name）」：'Evil\\x1b[2J基金会' contains the control character U+001B" in text
    assert "列「类型（kind）」：'=1+2' 不是可接受的值；可接受：" in text
    with rejects.open(encoding="utf-8-sig", newline="") as stream:
        rejected = list(csv.reader(stream))[1]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in rejected)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "warning line 3: home_region: "),
        ("zh", "提醒 第 3 行，列「所在地区代码（home_region）」："),
    ],
)
def test_a_warning_names_the_row_as_the_file_numbers_it(
    lang: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A region code in none of the ministry's lists: stored, with a warning at the CSV line it is on."""
    path = tmp_path / "台账.csv"
    unlisted = ROWS[0].replace("org-1", "org-2").replace("130000", "139999")
    path.write_text("\n".join([HEADER, ROWS[0], unlisted]) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(tmp_path / "ledger.db"), "import", str(path), "--lang", lang)
    assert code == 0
    assert expected in " ".join(out.split())


def test_references_and_command_ids_against_the_ledger_are_told_in_chinese(tmp_path: Path) -> None:
    """A command id the ledger holds for other content, a reference to a rejected row's object, and a
    reference to the wrong kind of object: each in Chinese, naming the rows as the file numbers them."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    project = resolve_reference("project", "prj-1")  # a UUID names any kind of object
    first.write_text("\n".join([HEADER, *ROWS[:3]]) + "\n", encoding="utf-8")
    second.write_text(
        "\n".join(
            [
                HEADER,
                ROWS[0].replace("示例基金会（虚构）", "别的名字"),
                ROWS[3].replace("org-2", "org-5"),
                ROWS[1].replace("prj-1", "prj-5").replace(",org-1,", ",org-5,"),
                f"make_pledge,pl-9,2018-01-05,clerk,,,,,,,,,,,,{project},prj-1,100,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with aidledger.open(str(tmp_path / "ledger.db"), recorded_by="tester") as ledger:
        import_file(ledger, first)
        with pytest.raises(InvalidInput) as refused:
            import_file(ledger, second, lang="zh")
    text = str(refused.value)
    duplicate = "账本中已有用这个编号、内容不同的「登记组织（register_organization）」命令；可接受："
    assert "第 2 行，列「命令编号（command_id）」：'org-1' " + duplicate in text
    rejected = "指向第 3 行创建的组织，但那一行被拒绝了；可接受："
    assert "第 4 行，列「实施组织编号（implementing_organization_id）」：'org-5' " + rejected in text
    assert f"第 5 行，列「捐赠方编号（donor_id）」：'{project}' 指向的是项目，不是组织；可接受：一个组织的编号" in text


def test_a_json_lines_field_a_command_does_not_take_is_told_in_chinese(tmp_path: Path) -> None:
    """JSON Lines too: the field as written, the close match, the fields accepted."""
    path = tmp_path / "rows.jsonl"
    record = {"command": "register_organization", "command_id": "org-1", "effective_on": "2018-01-02", "nmae": "甲"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as ledger, pytest.raises(InvalidInput) as refused:
        import_file(ledger, path, lang="zh")
    text = str(refused.value)
    said = "不是「登记组织（register_organization）」的字段（是否想写 'name'？）；可接受："
    assert "第 1 行，列「nmae」：'甲' " + said in text
