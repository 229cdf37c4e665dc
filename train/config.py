"""The `train:` block of pipeline.yaml."""

from dataclasses import dataclass


@dataclass
class Config:
    pass
