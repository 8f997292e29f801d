"""Content: finding source files, reading front matter and Markdown, and the article model."""
