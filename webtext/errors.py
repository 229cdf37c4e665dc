"""User-facing errors: the CLI prints these as one clear line, without a traceback."""


class WebtextError(Exception):
    """A problem the user can fix (bad input file, missing upstream stage). Exit code 1."""

    exit_code = 1


class ConfigError(WebtextError):
    """pipeline.yaml is invalid. Holds every problem found, each naming the file and key. Exit code 2."""

    exit_code = 2

    def __init__(self, problems, source=None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        lines = [prefix + p for p in self.problems]
        super().__init__("invalid configuration:\n  " + "\n  ".join(lines) if len(lines) > 1
                         else "invalid configuration: " + lines[0])


class InputError(WebtextError):
    """An input file is unreadable or malformed; the message names the file (and line or record)."""
