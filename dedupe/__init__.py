"""webtext dedupe stage (see ../README.md and DESIGN: the flow)."""
