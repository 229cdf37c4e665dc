"""webtext: an open reproduction of how GPT-2's WebText corpus and model were made.

This is the small common package every stage shares: the config loader (`webtext.config`), the
document record (`webtext.record`), JSON-lines IO (`webtext.jsonl`), the stage runner
(`webtext.runner`) and the command line (`webtext.cli`). It imports nothing heavy at package level,
so `train/` stays importable with torch and numpy alone.
"""

__version__ = "0.1.0"
