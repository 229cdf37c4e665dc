"""webtext shard stage (see ../README.md and DESIGN: the flow)."""
