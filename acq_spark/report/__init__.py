"""The run report: Markdown and HTML with the Table-2 and Table-4 comparisons and PNG plots."""
