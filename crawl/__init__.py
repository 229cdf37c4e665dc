"""webtext crawl stage (see ../README.md and DESIGN: the flow)."""
