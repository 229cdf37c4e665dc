"""webtext clean stage (see ../README.md and DESIGN: the flow)."""
