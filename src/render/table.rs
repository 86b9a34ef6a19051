//! Tables for people: comfy-table lays them out (widths by display width, no borders),
//! and cells are styled after layout. comfy-table without its terminal feature cannot
//! style a cell, and escapes inside a cell would count towards its width, so a styled
//! cell is found again in the laid-out line at its column's offset and wrapped there.

use anstyle::Style;
use comfy_table::{presets, Cell, ContentArrangement, Table};

/// One cell: its text, and a style (or none).
pub struct Styled {
    text: String,
    style: Option<Style>,
}

impl Styled {
    pub fn new(text: impl Into<String>, style: Style) -> Styled {
        Styled {
            text: text.into(),
            style: Some(style),
        }
    }
}

impl From<String> for Styled {
    fn from(text: String) -> Styled {
        Styled { text, style: None }
    }
}

impl From<&str> for Styled {
    fn from(text: &str) -> Styled {
        Styled::from(text.to_string())
    }
}

pub struct Grid {
    header: Vec<Styled>,
    rows: Vec<Vec<Styled>>,
    /// Printed before every line.
    indent: String,
}

impl Grid {
    pub fn new(header: Vec<Styled>) -> Grid {
        Grid {
            header,
            rows: vec![],
            indent: String::new(),
        }
    }

    pub fn indent(mut self, pad: &str) -> Grid {
        self.indent = pad.to_string();
        self
    }

    pub fn row(&mut self, cells: Vec<Styled>) {
        self.rows.push(cells);
    }

    /// The lines of the table, each ending in a newline, without trailing spaces.
    pub fn render(&self) -> String {
        // A newline inside a cell would make a row two lines; cells are one line each.
        let one_line = |s: &Styled| s.text.replace('\n', " ");
        let mut t = Table::new();
        t.load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        let has_header = self.header.iter().any(|h| !h.text.is_empty());
        if has_header {
            t.set_header(self.header.iter().map(|c| Cell::new(one_line(c))));
        }
        for r in &self.rows {
            t.add_row(r.iter().map(|c| Cell::new(one_line(c))));
        }
        // Column c starts after the columns before it (content plus one space of padding
        // on each side) and its own left padding.
        let widths = t.column_max_content_widths();
        let starts: Vec<usize> = (0..widths.len())
            .map(|c| widths[..c].iter().map(|w| *w as usize + 2).sum::<usize>() + 1)
            .collect();
        let mut s = String::new();
        let rows = self.header_row(has_header).chain(self.rows.iter());
        for (line, cells) in t.lines().zip(rows) {
            let mut line = line.trim_end().to_string();
            // Right to left, so earlier offsets stay valid.
            for (c, cell) in cells.iter().enumerate().rev() {
                let (Some(style), Some(start)) = (cell.style, starts.get(c)) else {
                    continue;
                };
                let text = one_line(cell);
                if text.is_empty() {
                    continue;
                }
                if let Some(at) = byte_at_column(&line, *start) {
                    if line[at..].starts_with(&text) {
                        let end = at + text.len();
                        line = format!(
                            "{}{}{}",
                            &line[..at],
                            crate::ui::paint(style, &text),
                            &line[end..]
                        );
                    }
                }
            }
            // The first column's left padding is the table's, not ours.
            let line = line.strip_prefix(' ').unwrap_or(&line);
            s.push_str(&self.indent);
            s.push_str(line);
            s.push('\n');
        }
        s
    }

    fn header_row(&self, has: bool) -> impl Iterator<Item = &Vec<Styled>> {
        has.then_some(&self.header).into_iter()
    }
}

/// The byte offset where display column `col` begins in `line`.
fn byte_at_column(line: &str, col: usize) -> Option<usize> {
    let mut w = 0;
    for (i, ch) in line.char_indices() {
        if w == col {
            return Some(i);
        }
        w += unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if w > col {
            return None;
        }
    }
    (w == col).then_some(line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styled_cells_keep_the_columns_aligned() {
        let mut g = Grid::new(vec!["".into(), "dev".into(), "prod".into()]);
        g.row(vec![
            "version".into(),
            "0004".into(),
            Styled::new("*0003", crate::ui::WARN),
        ]);
        g.row(vec!["drift".into(), "0 items".into(), "1 item".into()]);
        let s = g.render();
        let plain =
            String::from_utf8(anstream::adapter::strip_bytes(s.as_bytes()).into_vec()).unwrap();
        assert_eq!(
            plain,
            "         dev      prod\nversion  0004     *0003\ndrift    0 items  1 item\n"
        );
        assert!(s.contains("\u{1b}[33m*0003\u{1b}[0m"), "{s:?}");
    }
}
