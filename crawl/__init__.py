"""The crawl stage: Reddit submissions -> the WebText link list -> pages in WARC files (see README.md)."""
