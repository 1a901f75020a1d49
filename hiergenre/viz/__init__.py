"""Every view: terminal tables and drawings, Markdown reports, plots."""
