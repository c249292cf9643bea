"""The annual form (registry's ``annual_form`` reply) as a file to file upward: xlsx in the
form's layout (grouped Chinese headers, the column letters, a row per area and the total,
then the rate's definition, the precedence rule and the checks), or csv."""

import csv

SCOPE_NAMES = {"prefecture": "全州", "county": "县（市）", "station": "服务站"}


def headers(form):
    """``(group, label, key)`` per column, the area column first."""
    return [
        ("", "地区", ""),
        *((c.get("group", ""), c["label"], c["key"]) for c in form["columns"]),
    ]


def lines(form):
    """The rows of the form's table: one per area, then 合计."""
    keys = [c["key"] for c in form["columns"]]
    for row in form["rows"]:
        yield [row["name"], *(row["values"][k] for k in keys)]
    yield ["合计", *(form["total"][k] for k in keys)]


def notes(form):
    """What is printed under the table: the rate and its definition, the rule, the checks."""
    rate = form["rate"]["value"]
    shown = "—" if rate is None else f"{float(rate) * 100:.2f}%"
    failed = [c for c in form["checks"] if not c["ok"]]
    names = {row["area"]: row["name"] for row in form["rows"]}
    yield f"就业创业率：{shown}"
    yield f"口径：{form['rate']['definition']}"
    yield f"计数规则：{form['precedence']}"
    if not failed:
        yield f"校验：{len(form['checks'])} 项全部通过（A=B+C+D+L，D=E+G+H，H=I+J+K，行和=合计）"
    for c in failed:
        where = "合计" if c["area"] is None else names.get(c["area"], c["area"])
        yield f"校验未通过：{where} {c['rule']}（{c['left']} ≠ {c['right']}）"
    if form["unclassified"]:
        count = len(form["unclassified"])
        yield f"无法归类、只计入总数的卡片：{count} 张（report form --json 列出卡片编号）"


def write_xlsx(path, form, generated_at):
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, Side

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = str(form["year"])
    cols = headers(form)
    width = len(cols)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    sheet.cell(1, 1, f"{form['year']}{form['title']}")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = centre
    scope = form["scope"]
    sheet.cell(2, 1, f"填报范围：{scope.get('name') or SCOPE_NAMES.get(scope['level'], '')}")
    sheet.cell(2, width - 3, f"生成时间：{generated_at}")

    # Row 3: the groups (学历提升, 已就业, 待就业) spanning their columns; row 4: the labels;
    # row 5: the column letters. 地区 and 总数 span the three rows.
    top = 3
    position = 1
    while position <= width:
        group = cols[position - 1][0]
        end = position
        while end < width and group and cols[end][0] == group:
            end += 1
        if group:
            sheet.cell(top, position, group)
            sheet.merge_cells(start_row=top, start_column=position, end_row=top, end_column=end)
            for column in range(position, end + 1):
                sheet.cell(top + 1, column, cols[column - 1][1])
        else:
            sheet.cell(top, position, cols[position - 1][1])
            sheet.merge_cells(
                start_row=top, start_column=position, end_row=top + 1, end_column=position
            )
        position = end + 1
    for column, (_, _, key) in enumerate(cols, 1):
        sheet.cell(top + 2, column, key)
    for row in sheet.iter_rows(min_row=top, max_row=top + 2, max_col=width):
        for cell in row:
            cell.alignment = centre
            cell.font = Font(bold=True)
            cell.border = box

    first = top + 3
    for offset, line in enumerate(lines(form)):
        for column, value in enumerate(line, 1):
            cell = sheet.cell(first + offset, column, value)
            cell.border = box
            if offset == len(form["rows"]):
                cell.font = Font(bold=True)
    last = first + len(form["rows"])
    for offset, text in enumerate(notes(form), 2):
        sheet.cell(last + offset, 1, text)
    sheet.column_dimensions["A"].width = 22
    for column in range(2, width + 1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(column)].width = 11
    sheet.row_dimensions[top + 1].height = 48
    sheet.freeze_panes = sheet.cell(first, 2)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    book.save(path)


def write_csv(path, form):
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow([f"{key} {label}".strip() for _, label, key in headers(form)])
        out.writerows(lines(form))
