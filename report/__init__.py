"""webtext report stage (see ../README.md and DESIGN: the flow)."""
