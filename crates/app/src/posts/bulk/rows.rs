//! The spreadsheet of a bulk import: one post per row, named columns. Read leniently where
//! spreadsheets differ (a UTF-8 byte-order mark, `;` as the separator when the header has
//! no comma, column names in any case, blank lines) and strictly where a guess could
//! publish the wrong thing (an unknown column, a row with more cells than the header).

use std::collections::HashMap;

use serde::Serialize;

/// The columns a row may have: the upload form's fields, with spreadsheet-friendly
/// additions (`groups` by name, `when`, the location in three columns).
pub const COLUMNS: &[&str] = &[
    "media",
    "media_type",
    "caption",
    "original_language",
    "groups",
    "when",
    "first_comment",
    "pin_first_comment",
    "alt_text",
    "location",
    "location_name",
    "location_lat",
    "location_lng",
    "usertags",
    "collaborators",
    "disable_comments",
    "hide_like_counts",
    "share_to_feed",
    "cover_offset_ms",
    "media_variants",
    "fit",
];

/// The most rows one import takes.
pub const MAX_ROWS: usize = 1000;

/// A problem with one cell (or a whole row, `column` empty), as the spreadsheet numbers
/// its rows: the header is row 1, the first post row 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl RowError {
    pub(super) fn new(row: usize, column: &str, message: impl Into<String>) -> Self {
        Self {
            row,
            column: column.to_owned(),
            message: message.into(),
        }
    }
}

/// One post's cells, by column.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub line: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    /// The cell, trimmed; `None` when empty or absent.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .get(column)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty cell, for the columns the upload form shares.
    pub fn cells(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.cells
            .iter()
            .map(|(k, v)| (*k, v.trim()))
            .filter(|(_, v)| !v.is_empty())
    }
}

/// A `;`-separated list cell, each item trimmed, empty items dropped.
pub(super) fn list(cell: Option<&str>) -> Vec<String> {
    cell.map(|c| {
        c.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The rows, or every problem found in the file's shape.
pub(super) fn read(bytes: &[u8]) -> Result<Vec<Row>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![RowError::new(
            1,
            "",
            "the file is not UTF-8 text: save the spreadsheet as \"CSV UTF-8\"",
        )]);
    };
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if !first_line.contains(',') && first_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![RowError::new(
                1,
                "",
                format!("cannot read the header: {e}"),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    for name in header.iter() {
        let key = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == key) {
            Some(c) if columns.contains(c) => {
                errors.push(RowError::new(1, c, "this column appears twice"));
            }
            Some(c) => columns.push(c),
            None => errors.push(RowError::new(
                1,
                name.trim(),
                format!("unknown column; the columns are: {}", COLUMNS.join(", ")),
            )),
        }
    }
    for required in ["media", "original_language"] {
        if !columns.contains(&required) {
            errors.push(RowError::new(1, required, "this column is required"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    // Rows are numbered as the spreadsheet shows them (header 1), not by the file's lines:
    // a cell may hold line breaks.
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError::new(line, "", format!("cannot read the row: {e}")));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > columns.len() {
            errors.push(RowError::new(
                line,
                "",
                format!(
                    "{} cells, but the header names {} columns",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let cells = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (*c, v.to_owned()))
            .collect();
        rows.push(Row { line, cells });
        if rows.len() > MAX_ROWS {
            errors.push(RowError::new(
                line,
                "",
                format!("at most {MAX_ROWS} posts per import: split the file"),
            ));
            break;
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError::new(2, "", "the file has no posts, only a header"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheets_are_read_as_they_are_saved() {
        let csv = "\u{feff}Media,Caption,original_language,groups\n\
                   a.jpg;b.jpg,\"Hello, world\",en,IT; News\n\
                   ,,,\n\
                   c.jpg,\"two\nlines\",ru,IT\n";
        let rows = read(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(list(rows[0].get("media")), ["a.jpg", "b.jpg"]);
        assert_eq!(rows[0].get("caption"), Some("Hello, world"));
        assert_eq!(list(rows[0].get("groups")), ["IT", "News"]);
        // The blank row is skipped; the spreadsheet's own numbering is kept.
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].get("caption"), Some("two\nlines"));
        assert_eq!(rows[1].get("when"), None);
        let rows =
            read(b"media,caption,original_language\na.jpg,\"one\ntwo\",en\nb.jpg,x,en\n").unwrap();
        assert_eq!(rows[1].line, 3, "a cell's line break is not a row");
        // Semicolon-separated files (a European spreadsheet's CSV).
        let rows = read(b"media;original_language\nx.jpg;de\n").unwrap();
        assert_eq!(rows[0].get("original_language"), Some("de"));
    }

    #[test]
    fn the_shape_of_the_file_is_checked() {
        let errs = read(b"media,colour\nx.jpg,red\n").unwrap_err();
        assert!(errs.iter().any(|e| e.column == "colour" && e.row == 1));
        assert!(errs.iter().any(|e| e.column == "original_language"));
        let errs = read(b"media,original_language\nx.jpg,en,extra\n").unwrap_err();
        assert_eq!((errs[0].row, errs[0].column.as_str()), (2, ""));
        assert!(read(b"media,original_language\n").is_err());
        assert!(read(b"media,original_language\n\xff\xfe,en\n").is_err());
        let errs = read(b"media,media,original_language\n").unwrap_err();
        assert_eq!(errs[0].column, "media");
    }
}
