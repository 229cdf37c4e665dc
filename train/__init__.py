"""webtext train stage (see ../README.md and DESIGN: the flow)."""
