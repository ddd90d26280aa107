//! `report.html`: one self-contained page. Charts are inline SVG, the style sheet is
//! inline; nothing is loaded from anywhere (no scripts, fonts, style sheets or images).

use super::document::{Block, Document};

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;\
color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}\
th{background:#f3f3f3}code,pre{background:#f6f6f6;font-family:monospace}pre{padding:.6em;\
overflow-x:auto}figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}\
figcaption{font-size:.9em;color:#444}.v-confirmed{color:#1a7f37}.v-nuanced{color:#9a6700}\
.v-contradicted{color:#cf222e}.v-not{color:#6e7781}details{margin:1em 0}\
summary{cursor:pointer;font-weight:bold}";

/// Escapes text for HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escaped text with `` `code` `` and `**bold**` turned into elements; a bold verdict
/// gets its colour class.
fn inline(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let code = rest.find('`');
        let bold = rest.find("**");
        match (code, bold) {
            (Some(c), b) if b.is_none_or(|b| c < b) => {
                out.push_str(&escape(&rest[..c]));
                let after = &rest[c + 1..];
                match after.find('`') {
                    Some(end) => {
                        out.push_str(&format!("<code>{}</code>", escape(&after[..end])));
                        rest = &after[end + 1..];
                    }
                    None => {
                        out.push_str(&escape(&rest[c..]));
                        rest = "";
                    }
                }
            }
            (_, Some(b)) => {
                out.push_str(&escape(&rest[..b]));
                let after = &rest[b + 2..];
                match after.find("**") {
                    Some(end) => {
                        let text = &after[..end];
                        let class = match text {
                            "confirmed" => " class=\"v-confirmed\"",
                            "nuanced" => " class=\"v-nuanced\"",
                            "contradicted" => " class=\"v-contradicted\"",
                            t if t.starts_with("not measured") => " class=\"v-not\"",
                            _ => "",
                        };
                        out.push_str(&format!("<strong{class}>{}</strong>", inline(text)));
                        rest = &after[end + 2..];
                    }
                    None => {
                        out.push_str(&escape(&rest[b..]));
                        rest = "";
                    }
                }
            }
            _ => {
                out.push_str(&escape(rest));
                rest = "";
            }
        }
    }
    out
}

/// Drops an XML declaration or doctype before the `<svg` element.
fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// The HTML page of `doc`.
pub fn render(doc: &Document) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(doc.title())
    );
    for block in &doc.blocks {
        match block {
            Block::Heading { level, text } => {
                let l = (*level).clamp(1, 6);
                out.push_str(&format!("<h{l}>{}</h{l}>\n", inline(text)));
            }
            Block::Para(text) => out.push_str(&format!("<p>{}</p>\n", inline(text))),
            Block::Bullets(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for h in head {
                    out.push_str(&format!("<th>{}</th>", inline(h)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for c in row {
                        out.push_str(&format!("<td>{}</td>", inline(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Chart {
                title,
                caption,
                svg,
                ..
            } => {
                out.push_str(&format!(
                    "<figure role=\"img\" aria-label=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                    escape(title),
                    svg_element(svg).trim_end(),
                    inline(caption)
                ));
            }
            Block::Code(line) => {
                out.push_str(&format!("<pre><code>{}</code></pre>\n", escape(line)))
            }
            Block::Notes { summary, items } => {
                out.push_str(&format!(
                    "<details>\n<summary>{}</summary>\n<ol>\n",
                    inline(summary)
                ));
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(item)));
                }
                out.push_str("</ol>\n</details>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_marks_become_elements_and_text_is_escaped() {
        assert_eq!(
            inline("a `<b>` **nuanced** & c"),
            "a <code>&lt;b&gt;</code> <strong class=\"v-nuanced\">nuanced</strong> &amp; c"
        );
        assert_eq!(inline("lone ` tick"), "lone ` tick");
        assert_eq!(
            inline("**bold `x`**"),
            "<strong>bold <code>x</code></strong>"
        );
    }
}
