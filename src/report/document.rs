//! The report as a list of blocks, rendered to Markdown ([`super::markdown`]) and to
//! self-contained HTML ([`super::html`]) so both always say the same thing.
//!
//! Text may hold two inline marks, written as in Markdown: `` `code` `` and `**bold**`.

/// A block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1..=3.
    Heading {
        /// 1 for the title.
        level: u8,
        /// Its text.
        text: String,
    },
    /// A paragraph.
    Para(String),
    /// A bulleted list.
    Bullets(Vec<String>),
    /// A table with a header row.
    Table {
        /// Column titles.
        head: Vec<String>,
        /// Rows, as many cells as columns.
        rows: Vec<Vec<String>>,
    },
    /// A chart: Markdown links its files, HTML inlines its SVG.
    Chart {
        /// File stem under `charts/`.
        name: String,
        /// Title.
        title: String,
        /// What it shows.
        caption: String,
        /// The SVG document.
        svg: String,
    },
    /// A preformatted line (a command).
    Code(String),
    /// Numbered notes under a summary line: Markdown prints the line and a numbered list,
    /// HTML a collapsible `<details>` element.
    Notes {
        /// The line that opens them.
        summary: String,
        /// The notes, numbered from 1.
        items: Vec<String>,
    },
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Its blocks, in order.
    pub blocks: Vec<Block>,
}

impl Document {
    pub(crate) fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading {
            level,
            text: text.into(),
        });
    }

    pub(crate) fn para(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Para(text.into()));
    }

    pub(crate) fn bullets(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::Bullets(items));
        }
    }

    pub(crate) fn table(&mut self, head: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table {
            head: head.iter().map(|h| (*h).to_owned()).collect(),
            rows,
        });
    }

    pub(crate) fn notes(&mut self, summary: impl Into<String>, items: Vec<String>) {
        self.blocks.push(Block::Notes {
            summary: summary.into(),
            items,
        });
    }

    pub(crate) fn code(&mut self, line: impl Into<String>) {
        self.blocks.push(Block::Code(line.into()));
    }

    /// The title (first level-1 heading).
    pub fn title(&self) -> &str {
        self.blocks
            .iter()
            .find_map(|b| match b {
                Block::Heading { level: 1, text } => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or("tokenbench report")
    }
}
