//! Human tables: a header and rows, columns padded to their widest cell.

use std::fmt::Write as _;

/// A table to print, kubectl style.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; cells beyond the header's width are dropped, missing ones are empty.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The header and each row on a line, columns two spaces apart.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        line(&mut out, &widths, self.header.iter().copied());
        for row in &self.rows {
            line(&mut out, &widths, row.iter().map(String::as_str));
        }
        out
    }
}

/// One line: every cell but the last padded to its column's width.
pub(crate) fn line<'a>(out: &mut String, widths: &[usize], cells: impl Iterator<Item = &'a str>) {
    let mut text = String::new();
    for (width, cell) in widths.iter().zip(cells) {
        let _ = write!(text, "{cell:<width$}  ");
    }
    out.push_str(text.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut table = Table::new(&["NAME", "STATE"]);
        table.row(vec!["a-long-name".into(), "RUNNING".into()]);
        table.row(vec!["b".into(), "SHUTOFF".into()]);
        assert_eq!(
            table.render(),
            "NAME         STATE\na-long-name  RUNNING\nb            SHUTOFF\n"
        );
    }
}
