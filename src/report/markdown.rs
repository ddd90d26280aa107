//! `report.md`: GitHub-flavoured Markdown; charts link `charts/<name>.svg` and `.png`.

use super::document::{Block, Document};

/// Table cells may not hold `|` or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown text of `doc`.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Heading { level, text } => {
                out.push_str(&"#".repeat(usize::from((*level).clamp(1, 6))));
                out.push(' ');
                out.push_str(text);
                out.push_str("\n\n");
            }
            Block::Para(text) => {
                out.push_str(text);
                out.push_str("\n\n");
            }
            Block::Bullets(items) => {
                for item in items {
                    out.push_str("- ");
                    out.push_str(item);
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let line = |cells: &[String]| {
                    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
                    format!("| {} |\n", cells.join(" | "))
                };
                out.push_str(&line(head));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for row in rows {
                    out.push_str(&line(row));
                }
                out.push('\n');
            }
            Block::Chart {
                name,
                title,
                caption,
                ..
            } => {
                out.push_str(&format!(
                    "![{title}](charts/{name}.svg)\n\n{caption} ([SVG](charts/{name}.svg), [PNG](charts/{name}.png))\n\n"
                ));
            }
            Block::Notes { summary, items } => {
                out.push_str(summary);
                out.push_str("\n\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&format!("{}. {item}\n", i + 1));
                }
                out.push('\n');
            }
            Block::Code(line) => {
                out.push_str("```sh\n");
                out.push_str(line);
                out.push_str("\n```\n\n");
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
