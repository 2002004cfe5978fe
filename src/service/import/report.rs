//! What an import preview and commit report, row by row.

use serde::{Deserialize, Serialize};

use crate::model::Id;
use crate::service::Invitation;

/// A column that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredColumn {
    /// Its header as written.
    pub header: String,
    /// Why it is ignored.
    pub why: String,
}

/// One problem of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// The column it is about (its label), or `row`.
    pub column: String,
    /// What is wrong and how to fix it (the user form's message).
    pub message: String,
}

/// One data row of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub row: u64,
    /// "First Last", as given.
    pub name: String,
    /// Email, as given.
    pub email: String,
    /// The row's cells as read, one per column (for the rejected-rows file).
    pub cells: Vec<String>,
    /// Empty when the row can be imported.
    pub problems: Vec<RowProblem>,
}

impl ImportRow {
    /// Whether the row can be imported.
    pub fn eligible(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A preview: the file as read and every row's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// File name as given.
    pub file: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Encoding it was read in.
    pub encoding: String,
    /// Delimiter found (`,`, `;` or `tab`).
    pub delimiter: String,
    /// The columns' headers in file order.
    pub headers: Vec<String>,
    /// Columns that are not imported.
    pub ignored_columns: Vec<IgnoredColumn>,
    /// Every data row.
    pub rows: Vec<ImportRow>,
}

impl ImportReport {
    /// Rows that can be imported.
    pub fn eligible(&self) -> usize {
        self.rows.iter().filter(|r| r.eligible()).count()
    }

    /// Rows that cannot.
    pub fn rejected(&self) -> usize {
        self.rows.len() - self.eligible()
    }

    /// The rejected rows as CSV, with a `Reason` column, ready to fix and import again.
    pub fn rejected_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = self.headers.clone();
        header.push("Reason".into());
        let _ = w.write_record(&header);
        for r in self.rows.iter().filter(|r| !r.eligible()) {
            let mut cells = r.cells.clone();
            cells.resize(self.headers.len(), String::new());
            cells.push(
                r.problems
                    .iter()
                    .map(|p| format!("{}: {}", p.column, p.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            let _ = w.write_record(&cells);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// A user added by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedUser {
    /// The row they came from.
    pub row: u64,
    /// New user id.
    pub id: Id,
    /// "First Last".
    pub name: String,
    /// Their login (username or email).
    pub login: String,
    /// Their invitation (code shown once), unless the import invited nobody.
    pub invitation: Option<Invitation>,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResult {
    /// The preview it acted on.
    pub report: ImportReport,
    /// The users added, in row order.
    pub created: Vec<ImportedUser>,
}
