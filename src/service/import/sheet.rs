//! A staff spreadsheet as rows of cells under recognised columns. The `csv` crate does the
//! parsing (quotes, delimiters and newlines inside cells, CRLF or LF); this module finds the
//! delimiter, maps headers to user fields through the field table, and names what it ignores.

use serde::{Deserialize, Serialize};

use crate::service::user_field::{UserField, normalise_name};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    /// One user field.
    Field(UserField),
    /// Facilities the user may access besides the primary one (`all`, or names separated by
    /// `;`, `|` or `,`).
    Access,
    /// Not imported; `why` says so.
    Ignored {
        /// The header as written.
        header: String,
        /// Why it is ignored.
        why: String,
    },
}

/// Headers meaning the facility access list.
const ACCESS_HEADERS: &[&str] = &[
    "facility access",
    "access",
    "facilities",
    "locations",
    "sites",
    "other facilities",
    "also works at",
];

/// Headers of the administrator flag older tools (and staffctl before roles) have.
const ADMIN_HEADERS: &[&str] = &["administrator", "admin", "is admin", "admin privileges"];

/// One data row: its row number as a spreadsheet shows it and its cells, one per column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub row: u64,
    /// Cells, trimmed, one per column (missing cells are empty).
    pub cells: Vec<String>,
}

/// A parsed spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The delimiter found (`,`, `;` or tab).
    pub delimiter: u8,
    /// What each column holds, in file order.
    pub columns: Vec<Column>,
    /// The data rows that hold something.
    pub rows: Vec<SheetRow>,
}

impl Sheet {
    /// The cell of `field` in `row`, when the sheet has that column and the cell is not empty.
    pub fn cell<'a>(&self, row: &'a SheetRow, field: UserField) -> Option<&'a str> {
        let i = self
            .columns
            .iter()
            .position(|c| *c == Column::Field(field))?;
        row.cells
            .get(i)
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }

    /// The access-list cell of `row`.
    pub fn access<'a>(&self, row: &'a SheetRow) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| *c == Column::Access)?;
        row.cells
            .get(i)
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }

    /// Columns that are not imported, with why.
    pub fn ignored(&self) -> Vec<(String, String)> {
        self.columns
            .iter()
            .filter_map(|c| match c {
                Column::Ignored { header, why } => Some((header.clone(), why.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Picks the delimiter of the header line: the one of `,`, `;` and tab that occurs most often
/// outside quotes (a comma on a tie).
fn delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| *d)
}

fn column(header: &str, taken: &[Column]) -> Column {
    let h = normalise_name(header);
    let ignored = |why: String| Column::Ignored {
        header: header.to_string(),
        why,
    };
    if h.is_empty() {
        return ignored("the column has no header".into());
    }
    let found = if ACCESS_HEADERS.iter().any(|a| normalise_name(a) == h) {
        Column::Access
    } else if ADMIN_HEADERS.iter().any(|a| normalise_name(a) == h) {
        return ignored(
            "staffctl has no administrator flag: put Administrator (or a role granting admin.users) in the Role column".into(),
        );
    } else if let Some(f) = UserField::from_header(header) {
        Column::Field(f)
    } else {
        return ignored("not a user field staffctl knows".into());
    };
    if taken.contains(&found) {
        return ignored("an earlier column holds the same field".into());
    }
    found
}

/// Parses `text` (a decoded CSV file).
pub fn parse(text: &str) -> Result<Sheet, String> {
    let delimiter = delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    // Newlines before the current record (counted once, up to `counted`), and those inside
    // earlier records' cells.
    let (mut newlines, mut counted, mut inside) = (0u64, 0usize, 0u64);
    loop {
        let record = match records.next() {
            None => break,
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(format!("row {line} cannot be read as CSV: {e}"));
            }
        };
        // The csv crate counts neither blank lines nor the rest of a CRLF before a record:
        // count the newlines before the record's first character.
        let bytes = text.as_bytes();
        let mut start = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        // A spreadsheet shows a cell with line breaks as one row: newlines inside earlier
        // records' quoted cells are not rows.
        newlines += bytes
            .get(counted..start)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count() as u64);
        counted = counted.max(start);
        let row = 1 + newlines - inside;
        inside += record
            .iter()
            .map(|c| c.bytes().filter(|b| *b == b'\n').count() as u64)
            .sum::<u64>();
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if columns.is_empty() {
            for h in &cells {
                let c = column(h, &columns);
                columns.push(c);
            }
            if !columns.iter().any(|c| matches!(c, Column::Field(_))) {
                return Err(format!(
                    "the first row ({}) names no user field; the first row must be the header (`staffctl import template` writes one)",
                    cells.join(", ")
                ));
            }
            continue;
        }
        let mut cells = cells;
        cells.resize(columns.len().max(cells.len()), String::new());
        rows.push(SheetRow { row, cells });
    }
    if columns.is_empty() {
        return Err("the file is empty".into());
    }
    Ok(Sheet {
        delimiter,
        columns,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_whatever_people_write() {
        let sheet = parse(
            "First Name;E-mail;Location;Title;Favourite colour;;Facility access;Admin\r\n\
             Zoë;zoe@x.example;Downtown;Provider;blue;;Uptown|Eastside;yes\r\n",
        )
        .unwrap();
        assert_eq!(sheet.delimiter, b';');
        assert_eq!(sheet.columns[0], Column::Field(UserField::FirstName));
        assert_eq!(sheet.columns[1], Column::Field(UserField::Email));
        assert_eq!(sheet.columns[2], Column::Field(UserField::Facility));
        assert_eq!(sheet.columns[3], Column::Field(UserField::Role));
        assert_eq!(sheet.columns[6], Column::Access);
        let ignored = sheet.ignored();
        assert_eq!(ignored.len(), 3);
        assert_eq!(ignored[0].0, "Favourite colour");
        assert!(ignored[2].1.contains("Role column"), "{ignored:?}");
        let row = &sheet.rows[0];
        assert_eq!(row.row, 2);
        assert_eq!(sheet.cell(row, UserField::FirstName), Some("Zoë"));
        assert_eq!(sheet.access(row), Some("Uptown|Eastside"));
    }

    #[test]
    fn quoted_cells_blank_rows_and_tabs() {
        let sheet =
            parse("first\tlast\tbio\n\nAna\tLee\t\"Likes, commas\nand lines\"\n\t\t\nBo\tRay\n")
                .unwrap();
        assert_eq!(sheet.delimiter, b'\t');
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(
            sheet.cell(&sheet.rows[0], UserField::Bio),
            Some("Likes, commas\nand lines")
        );
        assert_eq!(sheet.rows[0].row, 3);
        // The line break inside Ana's bio is not a row of its own; the blank row is.
        assert_eq!(sheet.rows[1].row, 5);
        // A short row has empty cells for the missing columns.
        assert_eq!(sheet.cell(&sheet.rows[1], UserField::Bio), None);
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        let err = parse("Zoë,zoe@x.example\n").unwrap_err();
        assert!(err.contains("header"), "{err}");
        assert!(parse("\n\n").unwrap_err().contains("empty"));
        // A repeated field keeps the first column.
        let sheet = parse("email,e-mail\na@x.example,b@x.example\n").unwrap();
        assert!(matches!(sheet.columns[1], Column::Ignored { .. }));
    }
}
