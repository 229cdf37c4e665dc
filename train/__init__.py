"""webtext train stage: GPT-2 pretraining on the shards (see train/README.md; the model is train/model.py)."""
